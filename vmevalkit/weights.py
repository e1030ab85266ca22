"""Model weights on disk: where they live, fetching them from the Hugging Face Hub, their records, and
converting a trusted `.ckpt` to `.safetensors`.

Three kinds of weights spec:
- `WeightsSpec`, one checkpoint file: `<weights root>/<model id>/<filename>` with `<filename>.json` beside it
  recording the source repo, revision, commit, size and sha256. A `.safetensors` file with the same stem (made by
  `vmevalkit weights convert`) is preferred over the `.ckpt`: it loads without pickle.
- `SnapshotSpec`, a whole repo in diffusers layout, fetched with `huggingface_hub.snapshot_download` into the
  Hugging Face cache (`--cache-dir`, else `$VMEVALKIT_WEIGHTS`, else huggingface_hub's own, which follows
  HF_HOME / HF_HUB_CACHE), only the files its pipeline loads (one copy of each weight, no fp32 + fp16 pairs).
  A finished download is recorded in `<weights root>/<model id>/snapshot.json` with the commit it resolved to.
- `LocalFolderSpec`, a folder already on disk (a fine-tune): nothing to download.

The weights root is `--cache-dir`, else `$VMEVALKIT_WEIGHTS`, else `~/.cache/vmevalkit/weights`."""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vmevalkit.atomic import atomic_path, write_json
from vmevalkit.errors import CheckpointError, UserError
from vmevalkit.hashing import sha256_file
from vmevalkit.jsonfile import json_object_or_none

ENV_VAR = "VMEVALKIT_WEIGHTS"
DEFAULT_ROOT = Path("~/.cache/vmevalkit/weights")


@dataclass(frozen=True)
class WeightsSpec:
    """Where a model's checkpoint comes from: a Hugging Face repo and file, and the engine config it needs.

    `alt_repo_ids` are other names the same file is published under; they are tried in order when the
    first repo cannot be found."""

    repo_id: str
    filename: str
    config: str | None = None
    alt_repo_ids: tuple[str, ...] = ()
    revision: str | None = None

    @property
    def source(self) -> str:
        return f"{self.filename} from the Hugging Face repo {self.repo_id}"


@dataclass(frozen=True)
class SnapshotSpec:
    """A Hugging Face repo in diffusers layout (model_index.json + one folder per component). `variant` (e.g.
    "fp16") picks that variant's weight files where a component has them."""

    repo_id: str
    revision: str | None = None
    variant: str | None = None

    @property
    def source(self) -> str:
        return f"the diffusers snapshot of the Hugging Face repo {self.repo_id}"


@dataclass(frozen=True)
class LocalFolderSpec:
    """Weights already in a folder the user gave (nothing to download)."""

    path: Path

    @property
    def source(self) -> str:
        return f"the folder {self.path}"


AnyWeightsSpec = WeightsSpec | SnapshotSpec | LocalFolderSpec
SNAPSHOT_RECORD = "snapshot.json"
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".msgpack", ".h5", ".onnx", ".onnx_data", ".gguf")
_VARIANT_RE = re.compile(r"\.(fp16|bf16|fp32|fp8|int8)[.-]")


def weights_root(cache_dir: str | os.PathLike | None = None) -> Path:
    """The folder that holds every model's weights: `cache_dir`, else $VMEVALKIT_WEIGHTS, else ~/.cache."""
    chosen = cache_dir or os.environ.get(ENV_VAR) or DEFAULT_ROOT
    return Path(chosen).expanduser()


def snapshot_cache(cache_dir: str | os.PathLike | None = None) -> str | None:
    """The Hugging Face cache snapshots go to: `cache_dir`, else $VMEVALKIT_WEIGHTS, else None (huggingface_hub's
    own default, which follows HF_HOME and HF_HUB_CACHE)."""
    chosen = cache_dir or os.environ.get(ENV_VAR)
    return str(Path(chosen).expanduser()) if chosen else None


def weights_path(model_id: str, spec: AnyWeightsSpec, cache_dir: str | os.PathLike | None = None) -> Path:
    """Where `download` puts the model's checkpoint, or the record of its snapshot (whether or not it is there)."""
    if isinstance(spec, LocalFolderSpec):
        return spec.path
    return weights_root(cache_dir) / model_id / (SNAPSHOT_RECORD if isinstance(spec, SnapshotSpec) else spec.filename)


def find_weights(model_id: str, spec: AnyWeightsSpec, cache_dir: str | os.PathLike | None = None) -> Path | None:
    """What to load: a checkpoint file (a converted `.safetensors` beside the download if present, else the
    download), or the folder of a recorded snapshot or a local folder; None when it is not on disk."""
    if isinstance(spec, LocalFolderSpec):
        return spec.path if spec.path.is_dir() else None
    if isinstance(spec, SnapshotSpec):
        record = json_object_or_none(weights_path(model_id, spec, cache_dir))
        folder = Path(record["path"]) if record and isinstance(record.get("path"), str) else None
        return folder if folder is not None and (folder / "model_index.json").is_file() else None
    path = weights_path(model_id, spec, cache_dir)
    for candidate in (path.with_suffix(".safetensors"), path):
        if candidate.is_file():
            return candidate
    return None


def weights_revision(model_id: str, spec: AnyWeightsSpec | None,
                     cache_dir: str | os.PathLike | None = None) -> str | None:
    """The recorded revision of a model's weights, read from disk without loading anything: the Hub commit of a
    snapshot or checkpoint download, `local-<hash>` of a local folder's file names, sizes and times, else None."""
    if spec is None:
        return None
    if isinstance(spec, LocalFolderSpec):
        if not spec.path.is_dir():
            return None
        listing = sorted((str(p.relative_to(spec.path)), p.stat().st_size, p.stat().st_mtime_ns)
                         for p in spec.path.rglob("*") if p.is_file())
        return "local-" + hashlib.sha256(repr(listing).encode()).hexdigest()[:16]
    found = find_weights(model_id, spec, cache_dir)
    if found is None:
        return None
    record = json_object_or_none(weights_path(model_id, spec, cache_dir)) if isinstance(spec, SnapshotSpec) \
        else read_record(found)
    commit = (record or {}).get("commit")
    return commit if isinstance(commit, str) else None


def fetch_command(model_id: str, cache_dir: str | os.PathLike | None = None) -> str:
    """The exact command that fetches a model's weights into `cache_dir` (or the default root)."""
    extra = ["--cache-dir", str(cache_dir)] if cache_dir else []
    return shlex.join(["vmevalkit", "weights", "download", model_id, *extra])


def record_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def read_record(path: Path) -> dict[str, Any] | None:
    """The JSON record beside a weights file, if it exists, parses, and still matches the file's size."""
    record = json_object_or_none(record_path(path))
    try:
        size = path.stat().st_size
    except OSError:
        return None
    return record if record is not None and record.get("size") == size else None


def write_record(path: Path, **fields: Any) -> dict[str, Any]:
    """Hash `path` and write its record (sha256, size, and `fields`) beside it."""
    record = {"file": path.name, "size": path.stat().st_size, "sha256": sha256_file(path),
              "recorded": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **fields}
    write_json(record_path(path), record)
    return record


def weights_hash(path: Path) -> str:
    """The sha256 of a weights file, from its record when the record matches, else computed and recorded."""
    record = read_record(path)
    if record and isinstance(record.get("sha256"), str):
        return record["sha256"]
    return write_record(path)["sha256"]


def download(model_id: str, spec: AnyWeightsSpec, cache_dir: str | os.PathLike | None = None, *,
             force: bool = False, reference: str | None = None) -> Path:
    """Fetch a model's weights: its snapshot (`download_snapshot`) or its checkpoint file (below). `reference` is
    what the user typed when it differs from the id (`diffusers:<repo>`), for the rerun command in errors."""
    if isinstance(spec, LocalFolderSpec):
        raise UserError(f"{model_id} loads from {spec.path}, which is already on disk: nothing to download")
    if isinstance(spec, SnapshotSpec):
        return download_snapshot(model_id, spec, cache_dir, force=force, reference=reference)
    return download_file(model_id, spec, cache_dir, force=force)


def download_file(model_id: str, spec: WeightsSpec, cache_dir: str | os.PathLike | None = None, *,
                  force: bool = False) -> Path:
    """Fetch a model's checkpoint through huggingface_hub (resumes partial downloads) and record its sha256.

    The sha256 is checked against the Hub's (a mismatch deletes the file and fails); the record also keeps
    the commit the file came from. A file already present with a matching record is not fetched again
    unless `force`."""
    path = weights_path(model_id, spec, cache_dir)
    if not force and path.is_file() and read_record(path):
        return path
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError, RepositoryNotFoundError, RevisionNotFoundError

    problems = []
    for repo_id in (spec.repo_id, *spec.alt_repo_ids):
        try:
            fetched = hf_hub_download(repo_id, spec.filename, revision=spec.revision, local_dir=path.parent,
                                      force_download=force)
        except (RepositoryNotFoundError, RevisionNotFoundError, EntryNotFoundError) as e:
            problems.append(f"{repo_id}: {str(e).splitlines()[0]}")
            continue
        except Exception as e:  # network, auth, disk: one clear line, no traceback
            raise _hub_failure(model_id, spec.filename, repo_id, e, cache_dir) from e
        fetched = Path(fetched)
        if fetched.resolve() != path.resolve():
            os.replace(fetched, path)
        hub_sha256, commit = hub_file_facts(repo_id, spec)
        record = write_record(path, model=model_id, repo_id=repo_id, revision=spec.revision or "main",
                              commit=commit, hub_sha256=hub_sha256)
        if hub_sha256 and record["sha256"] != hub_sha256:
            path.unlink(missing_ok=True)
            record_path(path).unlink(missing_ok=True)
            raise UserError(f"{path}: sha256 {record['sha256']} differs from the Hub's {hub_sha256} for "
                            f"{repo_id}/{spec.filename}, so the download is corrupt and was deleted; rerun "
                            f"`{fetch_command(model_id, cache_dir)}`")
        return path
    raise UserError(f"could not find {spec.filename} for {model_id} on the Hugging Face Hub ({'; '.join(problems)})")


def _hub_failure(model_id: str, what: str, repo_id: str, e: Exception,
                 cache_dir: str | os.PathLike | None, reference: str | None = None) -> UserError:
    """One clear line for a failed Hub download (network, auth, disk), saying that a rerun resumes."""
    return UserError(f"downloading {what} for {model_id} from {repo_id} failed: {type(e).__name__}: "
                     f"{str(e).splitlines()[0] if str(e) else ''}; check the network (or HF_ENDPOINT / HF_TOKEN) "
                     f"and rerun `{fetch_command(reference or model_id, cache_dir)}`, which resumes")


def snapshot_files(repo_files: list[str], model_index: dict[str, Any], variant: str | None) -> list[str]:
    """The files of a diffusers repo its pipeline loads: model_index.json, then for every component it lists,
    the component's configs and tokenizer files and one set of weights: `variant`'s where the component has
    them, else the plain ones (never a variant beside its plain twin, never .bin/.ckpt twins of safetensors)."""
    components = [name for name, value in model_index.items()
                  if not name.startswith("_") and isinstance(value, list) and value and value[0] is not None]
    chosen = ["model_index.json"] if "model_index.json" in repo_files else []
    for component in components:
        files = [f for f in repo_files if f.startswith(f"{component}/")]
        chosen += [f for f in files if not f.endswith(WEIGHT_SUFFIXES)]
        tensors = [f for f in files if f.endswith(".safetensors")] or [f for f in files if f.endswith(".bin")]
        wanted = [f for f in tensors if variant and (f".{variant}." in f or f".{variant}-" in f)]
        plain = [f for f in tensors if not _VARIANT_RE.search(f)]
        chosen += wanted if variant and wanted else plain or tensors
    return sorted(set(chosen))


def download_snapshot(model_id: str, spec: SnapshotSpec, cache_dir: str | os.PathLike | None = None, *,
                      force: bool = False, reference: str | None = None) -> Path:
    """Fetch the files of a diffusers repo its pipeline loads (see `snapshot_files`) into the Hugging Face cache
    with `snapshot_download` (which resumes partial files and skips finished ones), and record the commit."""
    from huggingface_hub import HfApi, hf_hub_download, snapshot_download
    from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError

    cache = snapshot_cache(cache_dir)
    try:
        index = json_object_or_none(Path(hf_hub_download(spec.repo_id, "model_index.json", revision=spec.revision,
                                                         cache_dir=cache, force_download=force)))
        if index is None:
            raise UserError(f"{spec.repo_id}: its model_index.json is not a JSON object, so it is not a diffusers "
                            "repo the kit can load")
        files = snapshot_files(HfApi().list_repo_files(spec.repo_id, revision=spec.revision), index, spec.variant)
        folder = Path(snapshot_download(spec.repo_id, revision=spec.revision, cache_dir=cache, allow_patterns=files,
                                        force_download=force))
    except (RepositoryNotFoundError, RevisionNotFoundError) as e:
        raise UserError(f"could not find the Hugging Face repo {spec.repo_id} (revision {spec.revision or 'main'}) "
                        f"for {model_id}: {str(e).splitlines()[0]}") from e
    except UserError:
        raise
    except Exception as e:  # network, auth, disk
        raise _hub_failure(model_id, "the snapshot", spec.repo_id, e, cache_dir, reference) from e
    size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    write_json(weights_path(model_id, spec, cache_dir), {
        "model": model_id, "repo_id": spec.repo_id, "revision": spec.revision or "main", "commit": folder.name,
        "variant": spec.variant, "path": str(folder), "files": files, "size": size,
        "recorded": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
    return folder


def hub_file_facts(repo_id: str, spec: WeightsSpec) -> tuple[str | None, str | None]:
    """The Hub's sha256 of the file and the commit it was served from, each None when the Hub does not say.

    For files stored with Git LFS (every checkpoint) the Hub's ETag is the file's sha256."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url

    try:
        meta = get_hf_file_metadata(hf_hub_url(repo_id, spec.filename, revision=spec.revision))
    except Exception:  # the file is already here; without the Hub's answer it stays unverified, not lost
        return None, None
    etag = (meta.etag or "").strip('"').lower()
    return (etag if re.fullmatch(r"[0-9a-f]{64}", etag) else None), meta.commit_hash


def convert(ckpt: str | os.PathLike, out: str | os.PathLike | None = None) -> Path:
    """Write a checkpoint's flat state dict as `.safetensors` (atomically) and record its sha256.

    The input is read with `weights_only=True`, so a file that would run code is refused."""
    from safetensors.torch import save_file

    from vmevalkit.models.videocrafter.checkpoint import read_state_dict

    ckpt = Path(ckpt)
    out = Path(out) if out else ckpt.with_suffix(".safetensors")
    if out.resolve() == ckpt.resolve():
        raise UserError(f"{out}: the output would overwrite the input; pass --out with another name")
    if out.suffix != ".safetensors":
        raise UserError(f"{out}: the output name must end in .safetensors")
    state = read_state_dict(ckpt)
    seen: set[int] = set()
    tensors = {}
    for key, tensor in state.items():  # safetensors refuses tensors that share memory: give each its own
        ptr = tensor.untyped_storage().data_ptr()
        tensors[key] = tensor.contiguous() if ptr not in seen else tensor.clone().contiguous()
        seen.add(ptr)
    try:
        with atomic_path(out) as tmp:
            save_file(tensors, str(tmp), metadata={"format": "pt", "source": ckpt.name})
    except OSError as e:
        raise CheckpointError(f"{out}: could not write ({e.strerror or e}); choose another --out") from e
    write_record(out, converted_from=ckpt.name)
    return out
