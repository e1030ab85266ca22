"""The diffusers registry entries, the `diffusers:` resolver and snapshot weights, offline: the Hub is a stand-in
(monkeypatched huggingface_hub functions serving files from a dict), as in test_weights_cli.py."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import json
import subprocess
import sys
from pathlib import Path

import huggingface_hub
import pytest

from vmevalkit import models, weights
from vmevalkit.cli import main
from vmevalkit.errors import UserError, WeightsMissingError
from vmevalkit.models import check_weights, get_spec, list_models, resolve_settings, weights_revision
from vmevalkit.models.diffusers_models.families import BY_NAME, FAMILIES, family_for
from vmevalkit.models.diffusers_models.rules import check_settings

BUILT_IN = {"svd", "cogvideox-5b-i2v", "cogvideox1.5-5b-i2v", "ltx-video", "ltx-video-13b-distilled", "ltx-2",
            "wan-2.1-i2v-480p", "wan-2.1-i2v-720p", "wan-2.2-i2v-a14b", "wan-2.2-ti2v-5b", "hunyuan-video-i2v",
            "hunyuan-video-1.5-i2v", "skyreels-v2-i2v-14b-720p", "sana-video-2b-480p",
            "cosmos-predict2-2b-video2world"}
COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def registry(monkeypatch):
    monkeypatch.setattr(models, "_REGISTRY", dict(models._REGISTRY))
    return models


def test_every_built_in_id_has_a_family_snapshot_weights_and_defaults_its_rules_accept():
    specs = {s.id: s for s in list_models()}
    assert BUILT_IN <= set(specs)
    for model_id in BUILT_IN:
        spec = specs[model_id]
        family = BY_NAME[spec.family]
        assert isinstance(spec.weights, weights.SnapshotSpec) and "/" in spec.weights.repo_id
        assert spec.kind == "i2v" and spec.sees == family.sees and spec.weights.repo_id in spec.description
        settings = resolve_settings(spec)  # runs the spec's validate: the defaults pass the family's rules
        assert {"steps", "guidance", "frames", "fps", "height", "width", "dtype", "offload"} <= set(settings)
        assert settings["height"] % family.size_multiple == 0 and (settings["frames"] - 1) % family.frames_step == 0
    assert "ignores the prompt" in specs["svd"].label and specs["svd"].sees == ("image",)
    assert specs["svd"].weights.variant == "fp16"
    assert specs["wan-2.1-i2v-720p"].defaults["height"] == 720 and specs["wan-2.1-i2v-480p"].defaults["height"] == 480
    assert specs["wan-2.2-i2v-a14b"].defaults["guidance_scale_2"] == 3.5
    assert specs["ltx-video-13b-distilled"].defaults["decode_timestep"] == 0.05


def test_rules_name_the_rule_and_fixed_sizes_come_from_the_checkpoint():
    with pytest.raises(UserError, match=r"frames must be 4k\+1 .* e\.g\. 77 or 81 \(got 80\)"):
        resolve_settings(get_spec("wan-2.1-i2v-480p"), {"frames": "80"})
    with pytest.raises(UserError, match=r"frames must be 8k\+1"):
        resolve_settings(get_spec("ltx-video"), {"frames": "160"})
    with pytest.raises(UserError, match=r"height must be a multiple of 32 \(the VAE's 16"):
        resolve_settings(get_spec("wan-2.2-ti2v-5b"), {"height": "720"})
    with pytest.raises(UserError, match=r"must be 480x720: its transformer's learned position embeddings"):
        resolve_settings(get_spec("cogvideox-5b-i2v"), {"height": "512"})
    resolve_settings(get_spec("cogvideox1.5-5b-i2v"), {"height": "512"})  # 1.5 has no learned embeddings
    with pytest.raises(UserError, match=r"size buckets .* e\.g\. "):
        resolve_settings(get_spec("hunyuan-video-1.5-i2v"), {"height": "496"})
    with pytest.raises(UserError, match=r"offload must be one of none, model, sequential"):
        resolve_settings(get_spec("svd"), {"offload": "disk"})
    with pytest.raises(UserError, match=r"steps=30 but timesteps lists 8"):
        resolve_settings(get_spec("ltx-video-13b-distilled"), {"steps": "30"})
    resolve_settings(get_spec("ltx-video-13b-distilled"), {"steps": "30", "timesteps": ""})


def test_model_index_picks_the_family_and_an_unknown_pipeline_lists_the_known_ones(registry, tmp_path):
    assert family_for({"_class_name": "WanImageToVideoPipeline", "transformer_2": [None, None]}).name == "wan-2.1-i2v"
    assert family_for({"_class_name": "WanImageToVideoPipeline",
                       "transformer_2": ["diffusers", "WanTransformer3DModel"]}).name == "wan-2.2-i2v"
    assert family_for({"_class_name": "WanPipeline", "expand_timesteps": True}).name == "wan-2.2-ti2v"
    assert family_for({"_class_name": "WanPipeline"}) is None  # Wan text-to-video: no first frame
    (tmp_path / "model_index.json").write_text(json.dumps({"_class_name": "FluxPipeline"}))
    with pytest.raises(UserError, match=r"pipeline 'FluxPipeline' is not one the kit knows; known pipelines: "
                                        r".*StableVideoDiffusionPipeline.*WanImageToVideoPipeline"):
        get_spec(f"diffusers:{tmp_path}")
    with pytest.raises(UserError, match="is not a diffusers folder"):
        get_spec(f"diffusers:{tmp_path / 'nowhere'}")
    with pytest.raises(UserError, match="neither a folder nor a Hugging Face repo id"):
        get_spec("diffusers:not a repo")


class StandInHub:
    """Serves a repo's files from a dict in place of hf_hub_download, HfApi.list_repo_files and snapshot_download,
    writing them in the Hugging Face cache layout (models--org--name/snapshots/<commit>/) under `cache_dir`."""

    def __init__(self, repo_id: str, files: dict[str, bytes], default_cache: Path):
        self.repo_id, self.files, self.default_cache = repo_id, files, default_cache
        self.calls: list[dict] = []

    def install(self, monkeypatch):
        monkeypatch.setattr(huggingface_hub, "hf_hub_download", self.hf_hub_download)
        monkeypatch.setattr(huggingface_hub, "snapshot_download", self.snapshot_download)
        monkeypatch.setattr(huggingface_hub.HfApi, "list_repo_files", lambda api, repo_id, revision=None: list(self.files))
        return self

    def _snapshot(self, cache_dir) -> Path:
        root = Path(cache_dir) if cache_dir else self.default_cache
        return root / f"models--{self.repo_id.replace('/', '--')}" / "snapshots" / COMMIT

    def _write(self, name: str, cache_dir) -> Path:
        path = self._snapshot(cache_dir) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.files[name])
        return path

    def hf_hub_download(self, repo_id, filename, *, revision=None, cache_dir=None, force_download=False, **kw):
        self.calls.append({"fn": "file", "filename": filename, "cache_dir": cache_dir})
        return str(self._write(filename, cache_dir))

    def snapshot_download(self, repo_id, *, revision=None, cache_dir=None, allow_patterns=None, force_download=False,
                          **kw):
        self.calls.append({"fn": "snapshot", "allow_patterns": list(allow_patterns), "cache_dir": cache_dir})
        for name in allow_patterns:
            self._write(name, cache_dir)
        return str(self._snapshot(cache_dir))


SVD_INDEX = {"_class_name": "StableVideoDiffusionPipeline", "unet": ["diffusers", "UNetSpatioTemporalConditionModel"],
             "vae": ["diffusers", "AutoencoderKLTemporalDecoder"], "scheduler": ["diffusers", "EulerDiscreteScheduler"],
             "image_encoder": ["transformers", "CLIPVisionModelWithProjection"],
             "feature_extractor": ["transformers", "CLIPImageProcessor"], "safety_checker": [None, None]}
SVD_FILES = ["model_index.json", "svd_xt.safetensors", "unet/config.json", "unet/diffusion_pytorch_model.safetensors",
             "unet/diffusion_pytorch_model.fp16.safetensors", "vae/config.json", "vae/diffusion_pytorch_model.safetensors",
             "vae/diffusion_pytorch_model.fp16.safetensors", "vae/diffusion_pytorch_model.bin",
             "scheduler/scheduler_config.json", "image_encoder/config.json", "image_encoder/model.safetensors",
             "image_encoder/model.fp16.safetensors", "feature_extractor/preprocessor_config.json", "extra/notes.txt"]


def test_snapshot_files_take_one_copy_of_each_weight_of_the_listed_components():
    chosen = weights.snapshot_files(SVD_FILES, SVD_INDEX, "fp16")
    assert chosen == sorted(["model_index.json", "unet/config.json", "unet/diffusion_pytorch_model.fp16.safetensors",
                             "vae/config.json", "vae/diffusion_pytorch_model.fp16.safetensors",
                             "scheduler/scheduler_config.json", "image_encoder/config.json",
                             "image_encoder/model.fp16.safetensors", "feature_extractor/preprocessor_config.json"])
    plain = weights.snapshot_files(SVD_FILES, SVD_INDEX, None)
    assert "unet/diffusion_pytorch_model.safetensors" in plain and not any("fp16" in f or f.endswith(".bin")
                                                                            for f in plain)
    sharded = ["model_index.json", "transformer/diffusion_pytorch_model-00001-of-00002.safetensors",
               "transformer/diffusion_pytorch_model-00002-of-00002.safetensors",
               "transformer/diffusion_pytorch_model.safetensors.index.json", "transformer/config.json"]
    assert weights.snapshot_files(sharded, {"transformer": ["diffusers", "X"]}, "fp16") == sorted(sharded)


def _svd_hub(monkeypatch, tmp_path) -> StandInHub:
    files = {name: b"{}" if name.endswith(".json") else b"weights" for name in SVD_FILES}
    files["model_index.json"] = json.dumps(SVD_INDEX).encode()
    return StandInHub("stabilityai/stable-video-diffusion-img2vid-xt", files, tmp_path / "hf-home").install(monkeypatch)


def test_weights_download_fetches_a_snapshot_records_its_commit_and_feeds_the_result_key(monkeypatch, tmp_path,
                                                                                          capsys):
    monkeypatch.delenv("VMEVALKIT_WEIGHTS", raising=False)
    hub = _svd_hub(monkeypatch, tmp_path)
    cache = tmp_path / "weights"
    with pytest.raises(WeightsMissingError) as missing:
        check_weights("svd", cache)
    assert "\n" not in str(missing.value)
    assert str(missing.value).endswith(f"fetch them with: vmevalkit weights download svd --cache-dir {cache}")
    assert weights_revision("svd", cache) is None
    assert main(["weights", "download", "svd", "--cache-dir", str(cache)]) == 0
    snapshot = hub.calls[-1]
    assert snapshot["cache_dir"] == str(cache) and "svd_xt.safetensors" not in snapshot["allow_patterns"]
    assert "unet/diffusion_pytorch_model.fp16.safetensors" in snapshot["allow_patterns"]
    assert not any(p.endswith("unet/diffusion_pytorch_model.safetensors") for p in snapshot["allow_patterns"])
    check_weights("svd", cache)  # present now
    assert weights_revision("svd", cache) == COMMIT and f"commit {COMMIT}" in capsys.readouterr().out
    folder = weights.find_weights("svd", get_spec("svd").weights, cache)
    assert folder.name == COMMIT and (folder / "model_index.json").is_file()
    assert main(["weights", "path", "svd", "--cache-dir", str(cache)]) == 0
    assert capsys.readouterr().out.strip() == str(folder)
    assert main(["weights", "download", "svd"]) == 0  # no --cache-dir, no $VMEVALKIT_WEIGHTS: HF_HOME's cache
    assert hub.calls[-1]["cache_dir"] is None


def test_a_hub_repo_id_resolves_from_its_model_index_to_a_readable_slug(registry, monkeypatch, tmp_path):
    hub = _svd_hub(monkeypatch, tmp_path)
    spec = get_spec("diffusers:stabilityai/stable-video-diffusion-img2vid-xt")
    assert spec.id == "diffusers-stabilityai--stable-video-diffusion-img2vid-xt" and spec.family == "svd"
    assert spec.reference == "diffusers:stabilityai/stable-video-diffusion-img2vid-xt" and spec.sees == ("image",)
    assert isinstance(spec.weights, weights.SnapshotSpec) and hub.calls[0]["filename"] == "model_index.json"
    assert resolve_settings(spec) == dict(BY_NAME["svd"].defaults)
    with pytest.raises(WeightsMissingError, match=r"fetch them with: vmevalkit weights download "
                                                  r"diffusers:stabilityai/stable-video-diffusion-img2vid-xt"):
        check_weights(spec.id, tmp_path / "empty")


def test_a_local_folders_revision_changes_with_its_files(registry, tmp_path):
    folder = tmp_path / "My Fine-tune"
    folder.mkdir()
    (folder / "model_index.json").write_text(json.dumps({"_class_name": "LTXPipeline"}))
    spec = get_spec(f"diffusers:{folder}")
    assert spec.id == "diffusers-my-fine-tune" and spec.family == "ltx-i2v" and spec.weights.path == folder
    first = weights_revision(spec.id)
    assert first.startswith("local-") and weights_revision(spec.id) == first
    (folder / "transformer").mkdir()
    (folder / "transformer" / "config.json").write_text("{}")
    assert weights_revision(spec.id) not in (None, first)
    assert main(["weights", "download", f"diffusers:{folder}"]) == 2


def test_pinned_minimum_and_every_familys_first_release():
    from packaging.version import Version

    from vmevalkit.models.diffusers_models.adapter import diffusers_version

    pyproject = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text()
    pinned = Version(pyproject.split('"diffusers>=')[1].split('"')[0])
    assert all(Version(f.since) <= Version(diffusers_version()) for f in FAMILIES)
    assert pinned >= Version("0.35.0")  # Wan 2.2 and SkyReels V2, the oldest of the newer families


def test_an_old_diffusers_is_one_clear_error(monkeypatch):
    from vmevalkit.models.diffusers_models import adapter

    monkeypatch.setattr(adapter, "diffusers_version", lambda: "0.33.1")
    with pytest.raises(UserError, match=r"ltx-2: LTX2ImageToVideoPipeline needs diffusers >= 0.37.0 and diffusers "
                                        r"0.33.1 is installed; upgrade it with: pip install -U 'diffusers>=0.37.0'"):
        adapter.check_diffusers("ltx-2", BY_NAME["ltx-2-i2v"])


def test_the_cli_starts_without_importing_diffusers_or_torch():
    code = ("import sys, vmevalkit.cli as c; c.build_parser(); from vmevalkit.models import list_models; "
            "list_models(); print(sorted(m for m in ('diffusers', 'torch', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
