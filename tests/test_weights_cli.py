"""Weights: download through huggingface_hub (monkeypatched: tests never touch the network), records,
list/path, convert to safetensors, and the setup.sh wrappers."""

import hashlib
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import huggingface_hub
import pytest
import torch
from huggingface_hub.errors import RepositoryNotFoundError

from vmevalkit import weights
from vmevalkit.cli import main
from vmevalkit.errors import CheckpointError, UserError
from vmevalkit.models import get_spec

ROOT = Path(__file__).resolve().parent.parent
PAYLOAD = b"pretend checkpoint bytes" * 100


def _not_found(message):
    """A RepositoryNotFoundError as the hub raises it (built without an HTTP response object)."""
    error = RepositoryNotFoundError.__new__(RepositoryNotFoundError)
    Exception.__init__(error, message)
    return error


class FakeHub:
    """Stands in for hf_hub_download: serves files from a dict {(repo, filename): bytes}, records calls.

    `metadata` stands in for get_hf_file_metadata: the ETag is the sha256 of `hub_bytes` when given (a file
    the Hub holds other bytes for), else of the file served; `hub_bytes=b""` means the Hub sends no sha256."""

    def __init__(self, files, hub_bytes=None):
        self.files = files
        self.hub_bytes = hub_bytes
        self.calls = []

    def install(self, monkeypatch):
        monkeypatch.setattr(huggingface_hub, "hf_hub_download", self)
        monkeypatch.setattr(huggingface_hub, "get_hf_file_metadata", self.metadata)
        return self

    def metadata(self, url, **kwargs):
        served = next(iter(self.files.values()))
        etag = "" if self.hub_bytes == b"" else hashlib.sha256(self.hub_bytes or served).hexdigest()
        return SimpleNamespace(etag=f'"{etag}"', commit_hash="c0ffee" * 6 + "c0ff")

    def __call__(self, repo_id, filename, *, revision=None, local_dir=None, force_download=False, **kwargs):
        self.calls.append({"repo_id": repo_id, "filename": filename, "local_dir": Path(local_dir),
                           "force": force_download})
        if (repo_id, filename) not in self.files:
            raise _not_found(f"404 Client Error: Repository Not Found for url: .../{repo_id}")
        if self.files[(repo_id, filename)] is None:
            raise ConnectionError("Temporary failure in name resolution\nmore lines")
        path = Path(local_dir) / filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.files[(repo_id, filename)])
        return str(path)


@pytest.fixture
def hub(monkeypatch):
    return FakeHub({("VideoCrafter/Image2Video-512", "model.ckpt"): PAYLOAD}).install(monkeypatch)


def test_download_records_sha256_and_is_not_repeated(hub, tmp_path, capsys):
    assert main(["weights", "download", "videocrafter2-512", "--cache-dir", str(tmp_path)]) == 0
    path = tmp_path / "videocrafter2-512" / "model.ckpt"
    assert path.read_bytes() == PAYLOAD
    record = json.loads((tmp_path / "videocrafter2-512" / "model.ckpt.json").read_text())
    assert record["sha256"] == hashlib.sha256(PAYLOAD).hexdigest() and record["size"] == len(PAYLOAD)
    assert record["repo_id"] == "VideoCrafter/Image2Video-512" and record["model"] == "videocrafter2-512"
    assert record["hub_sha256"] == record["sha256"] and len(record["commit"]) == 40
    assert hub.calls[0]["local_dir"] == tmp_path / "videocrafter2-512"
    assert record["sha256"] in capsys.readouterr().out
    assert main(["weights", "download", "videocrafter2-512", "--cache-dir", str(tmp_path)]) == 0
    assert len(hub.calls) == 1  # present with a matching record: not fetched again
    assert main(["weights", "download", "videocrafter2-512", "--cache-dir", str(tmp_path), "--force"]) == 0
    assert len(hub.calls) == 2 and hub.calls[1]["force"]


def test_a_download_that_differs_from_the_hubs_sha256_is_deleted(monkeypatch, tmp_path, capsys):
    FakeHub({("VideoCrafter/Image2Video-512", "model.ckpt"): PAYLOAD}, hub_bytes=b"other").install(monkeypatch)
    assert main(["weights", "download", "videocrafter2-512", "--cache-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "differs from the Hub's " + hashlib.sha256(b"other").hexdigest() in err and "was deleted" in err
    assert "Traceback" not in err and not any((tmp_path / "videocrafter2-512").glob("model.ckpt*"))
    assert weights.find_weights("videocrafter2-512", get_spec("videocrafter2-512").weights, tmp_path) is None


def test_a_download_the_hub_gives_no_sha256_for_is_kept_and_marked_unchecked(monkeypatch, tmp_path, capsys):
    FakeHub({("VideoCrafter/Image2Video-512", "model.ckpt"): PAYLOAD}, hub_bytes=b"").install(monkeypatch)
    assert main(["weights", "download", "videocrafter2-512", "--cache-dir", str(tmp_path)]) == 0
    assert "not checked: the Hub gave no sha256" in capsys.readouterr().out
    record = json.loads((tmp_path / "videocrafter2-512" / "model.ckpt.json").read_text())
    assert record["hub_sha256"] is None and record["sha256"] == hashlib.sha256(PAYLOAD).hexdigest()


def test_env_var_sets_the_cache_and_the_flag_wins(hub, tmp_path, monkeypatch):
    monkeypatch.setenv("VMEVALKIT_WEIGHTS", str(tmp_path / "env"))
    assert main(["weights", "download", "videocrafter2-512"]) == 0
    assert (tmp_path / "env" / "videocrafter2-512" / "model.ckpt").is_file()
    assert weights.weights_root(tmp_path / "flag") == tmp_path / "flag"
    monkeypatch.delenv("VMEVALKIT_WEIGHTS")
    assert weights.weights_root() == Path("~/.cache/vmevalkit/weights").expanduser()


def test_download_falls_back_to_the_other_published_name(monkeypatch, tmp_path):
    fake = FakeHub({("VideoCrafter/Image2Video-512-v1.0", "model.ckpt"): PAYLOAD}).install(monkeypatch)
    path = weights.download("videocrafter2-512", get_spec("videocrafter2-512").weights, tmp_path)
    assert [c["repo_id"] for c in fake.calls] == ["VideoCrafter/Image2Video-512", "VideoCrafter/Image2Video-512-v1.0"]
    assert weights.read_record(path)["repo_id"] == "VideoCrafter/Image2Video-512-v1.0"


def test_download_failures_are_one_clear_line(monkeypatch, tmp_path, capsys):
    FakeHub({("VideoCrafter/VideoCrafter2", "model.ckpt"): None}).install(monkeypatch)
    assert main(["weights", "download", "videocrafter2-t2v-512", "--cache-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    assert "ConnectionError: Temporary failure in name resolution" in err
    assert f"vmevalkit weights download videocrafter2-t2v-512 --cache-dir {tmp_path}" in err
    FakeHub({}).install(monkeypatch)
    with pytest.raises(UserError, match="could not find model.ckpt for videocrafter2-512"):
        weights.download("videocrafter2-512", get_spec("videocrafter2-512").weights, tmp_path)
    assert main(["weights", "download", "static", "--cache-dir", str(tmp_path)]) == 2
    assert "static has no weights to download" in capsys.readouterr().err


def test_the_fetch_command_is_shell_quoted():
    command = weights.fetch_command("videocrafter2-512", "/data/my weights")
    assert shlex.split(command) == ["vmevalkit", "weights", "download", "videocrafter2-512", "--cache-dir",
                                    "/data/my weights"]
    assert weights.fetch_command("videocrafter2-512") == "vmevalkit weights download videocrafter2-512"


def test_list_and_path(hub, tmp_path, capsys):
    assert main(["weights", "path", "videocrafter2-512", "--cache-dir", str(tmp_path)]) == 2
    assert "fetch them with: vmevalkit weights download videocrafter2-512" in capsys.readouterr().err
    main(["weights", "download", "videocrafter2-512", "--cache-dir", str(tmp_path)])
    capsys.readouterr()
    assert main(["weights", "path", "videocrafter2-512", "--cache-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "videocrafter2-512" / "model.ckpt")
    assert main(["weights", "list", "--cache-dir", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("videocrafter2-512:") and "present" in line and hashlib.sha256(PAYLOAD).hexdigest()
               in line for line in lines)
    assert any(line.startswith("videocrafter2-t2v-512:") and "missing" in line for line in lines)


def test_a_stale_record_is_ignored_and_the_hash_recomputed(tmp_path):
    path = tmp_path / "w.ckpt"
    path.write_bytes(b"one")
    assert weights.weights_hash(path) == hashlib.sha256(b"one").hexdigest()
    path.write_bytes(b"other content")  # replaced by hand: the old record no longer matches its size
    assert weights.read_record(path) is None
    assert weights.weights_hash(path) == hashlib.sha256(b"other content").hexdigest()


def test_a_broken_record_is_ignored_and_the_hash_recomputed(tmp_path):
    path = tmp_path / "w.ckpt"
    path.write_bytes(b"one")
    for broken in (b'{"size": 3, "sha256": "\xff"}', b"[3]"):
        weights.record_path(path).write_bytes(broken)
        assert weights.read_record(path) is None
        assert weights.weights_hash(path) == hashlib.sha256(b"one").hexdigest()


def test_convert_writes_safetensors_with_the_same_tensors(tmp_path, capsys):
    shared = torch.arange(6, dtype=torch.float32)
    state = {"a.weight": shared, "b.weight": shared, "c.bias": torch.ones(2, 3).t()}  # shared and non-contiguous
    ckpt = tmp_path / "model.ckpt"
    torch.save({"state_dict": state, "global_step": 7}, ckpt)
    assert main(["weights", "convert", str(ckpt)]) == 0
    out = tmp_path / "model.safetensors"
    from safetensors.torch import load_file

    back = load_file(str(out))
    assert set(back) == set(state) and all(torch.equal(back[k], state[k]) for k in state)
    assert weights.read_record(out)["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert str(out) in capsys.readouterr().out
    assert not [p for p in tmp_path.iterdir() if ".partial" in p.name]


def test_convert_refuses_code_and_bad_names(tmp_path, capsys):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    ckpt = tmp_path / "evil.ckpt"
    torch.save({"state_dict": {"w": torch.zeros(1)}, "hook": Evil()}, ckpt)
    assert main(["weights", "convert", str(ckpt)]) == 2
    assert "refused to load" in capsys.readouterr().err
    assert not (tmp_path / "evil.safetensors").exists()
    good = tmp_path / "good.ckpt"
    torch.save({"w": torch.zeros(1)}, good)
    with pytest.raises(UserError, match="must end in .safetensors"):
        weights.convert(good, tmp_path / "good.bin")
    with pytest.raises(CheckpointError, match="not found"):
        weights.convert(tmp_path / "absent.ckpt")


@pytest.mark.parametrize("model_id", ["videocrafter2-512", "videocrafter2-t2v-512"])
def test_setup_scripts_wrap_the_download_command(model_id):
    script = ROOT / "setup" / "models" / model_id / "setup.sh"
    env = {**os.environ, "PYTHON": sys.executable, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(["bash", str(script), "--help"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "usage: vmevalkit weights download" in done.stdout and "--cache-dir" in done.stdout
    assert f"weights download {model_id}" in script.read_text()
