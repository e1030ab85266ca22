"""Test-only: one case per hosted provider (its fake server, a model id, its key variables, and a check of the
create request against the provider's documented shape), and a helper that runs a model on a question."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import hosted_fakes as fakes
import numpy as np
from PIL import Image

from vmevalkit.geometry import Fit
from vmevalkit.models import check_environment, get_spec, resolve_settings
from vmevalkit.questions import Question

FAST = {"poll_interval": 0.01, "retry_backoff": 0.01, "rate_limit": 1000.0, "retries": 2}


def question(i: int = 0, prompt: str = "walk the red dot to the green flag") -> Question:
    """A flat-coloured first frame (small as PNG at any size) with a dot whose place depends on i."""
    a = np.full((48, 64, 3), 230, dtype=np.uint8)
    a[10:20, 5 + 5 * i: 15 + 5 * i] = (200, 30, 30)
    return Question(id=f"q{i}", domain="hosted", prompt=prompt, first_frame=Image.fromarray(a))


def _png(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _data_uri_image(uri: str) -> Image.Image:
    assert uri.startswith("data:image/png;base64,"), uri[:40]
    return _png(base64.b64decode(uri.split(",", 1)[1]))


def _multipart_has(body: bytes, *names: str) -> bool:
    return all(f'name="{n}"'.encode() in body for n in names)


def check_gemini(fake, model) -> None:
    body = fake.request_json("create")
    instance = body["instances"][0]
    assert instance["prompt"] and instance["image"]["mimeType"] == "image/png"
    assert _png(base64.b64decode(instance["image"]["bytesBase64Encoded"])).size == model.resolution
    assert body["parameters"]["aspectRatio"] == "16:9" and body["parameters"]["durationSeconds"] == 8
    assert "seed" not in body["parameters"]  # the Gemini API takes none for Veo
    download = next(r for r in fake.requests if r["path"].endswith(":download"))
    assert download["query"] == {"alt": ["media"]} and download["headers"]["x-goog-api-key"] == fake.key


def check_kling(fake, model) -> None:
    body = fake.request_json("create")
    assert not body["image"].startswith("data:")  # "do not add any prefixes to the Base64-encoded string"
    assert _png(base64.b64decode(body["image"])).size == model.resolution == (1280, 720)
    assert body["model_name"] == "kling-v2-6" and body["mode"] == "std" and body["duration"] == "5"
    assert body["external_task_id"].startswith("vmevalkit-") and "cfg_scale" not in body


def check_runway(fake, model) -> None:
    body = fake.request_json("create")
    assert body["model"] == "gen4_turbo" and body["ratio"] == "1280:720" and body["duration"] == 5
    assert _data_uri_image(body["promptImage"]).size == (1280, 720) and isinstance(body["seed"], int)


def check_luma_agents(fake, model) -> None:
    body = fake.request_json("create")
    assert body["model"] == "ray-3.2" and body["type"] == "video" and body["video"]["duration"] == "5s"
    frame = body["video"]["start_frame"]
    assert frame["media_type"] == "image/png" and _png(base64.b64decode(frame["data"])).size == (1280, 720)


def check_luma_ray2(fake, model) -> None:
    body = fake.request_json("create")
    url = body["keyframes"]["frame0"]["url"]
    assert body["model"] == "ray-2" and body["duration"] == "5s" and body["keyframes"]["frame0"]["type"] == "image"
    assert url.startswith(fake.root + "/uploads/") and url.endswith(".png")  # put there by the put: uploader
    assert _png(fake.uploads["/uploads/" + url.rsplit("/", 1)[1]]).size == (1280, 720)


def check_fal(fake, model) -> None:
    body = fake.request_json("create")
    assert _data_uri_image(body["image_url"]).size == (1280, 720) and body["resolution"] == "720p"
    assert body["duration"] == "5" and isinstance(body["seed"], int) and body["prompt"]
    status = [r for r in fake.requests if r["path"].endswith("/status")]
    assert status and all(r["headers"]["Authorization"] == f"Key {fake.key}" for r in status)  # re-based to us


def check_wavespeed(fake, model) -> None:
    body = fake.request_json("create")
    assert body["image"] == f"{fake.root}/files/f.png" and body["duration"] == 5 and isinstance(body["seed"], int)
    upload = next(r for r in fake.requests if r["path"] == "/media/upload/binary")
    assert _multipart_has(upload["body"], "file")


def check_openai(fake, model) -> None:
    create = next(r for r in fake.requests if r["method"] == "POST")
    assert create["headers"]["Content-Type"].startswith("multipart/form-data")
    assert _multipart_has(create["body"], "model", "prompt", "seconds", "size", "input_reference")
    assert b"1280x720" in create["body"] and b"\x89PNG" in create["body"]
    download = next(r for r in fake.requests if r["path"].endswith("/content"))
    assert download["query"] == {"variant": ["video"]}


@dataclass
class Case:
    name: str
    fake: type
    model: str  # may hold {base} (the generic OpenAI-compatible id)
    keys: dict[str, str]
    check: Callable
    overrides: dict | None = None


def _keys(name: str, *variables: str) -> dict[str, str]:
    return {v: f"sk-{name}-{v.lower()}-SECRET-0123456789" for v in variables}


CASES = [
    Case("gemini", fakes.FakeGemini, "veo-3.1-generate", _keys("gemini", "GEMINI_API_KEY"), check_gemini),
    Case("kling", fakes.FakeKling, "kling-v2-6", _keys("kling", "KLING_ACCESS_KEY", "KLING_SECRET_KEY"), check_kling),
    Case("runway", fakes.FakeRunway, "runway-gen4-turbo", _keys("runway", "RUNWAYML_API_SECRET"), check_runway),
    Case("luma-ray-3.2", fakes.FakeLumaAgents, "luma-ray-3.2", _keys("luma3", "LUMAAI_API_KEY"), check_luma_agents),
    Case("luma-ray-2", fakes.FakeLumaDreamMachine, "luma-ray-2", _keys("luma2", "LUMAAI_API_KEY"), check_luma_ray2,
         {"uploader": "put:{root}/uploads/"}),
    Case("fal", fakes.FakeFal, "seedance-v1-pro", _keys("fal", "FAL_KEY"), check_fal, {"resolution": "720p"}),
    Case("wavespeed", fakes.FakeWaveSpeed, "wavespeed-wan-2.2-i2v-480p", _keys("wavespeed", "WAVESPEED_API_KEY"),
         check_wavespeed),
    Case("openai", fakes.FakeOpenAI, "openai-sora-2", _keys("openai", "OPENAI_API_KEY"), check_openai),
    Case("openai-video", fakes.FakeOpenAICompatible, "openai-video:{base}#my-model", {}, check_openai),
]
BY_NAME = {c.name: c for c in CASES}


@contextmanager
def serve(case: Case, video: bytes, script: fakes.Script, monkeypatch):
    """The case's fake server, with the key variables and VMEVALKIT_<PROVIDER>_BASE_URL pointing at it."""
    keys = list(case.keys.values())
    kwargs = {"secret": keys[1]} if issubclass(case.fake, fakes.FakeKling) else {}
    with case.fake(video, script, key=keys[0] if keys else "", **kwargs) as fake:
        for name, value in case.keys.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv(f"VMEVALKIT_{fake.env}_BASE_URL", fake.base_url)
        yield fake


def model_id(case: Case, fake) -> str:
    return case.model.format(base=fake.base_url)


def build(case: Case, fake, workdir: Path, **overrides):
    """The model as load_model builds it, minus resolve_device (which imports torch, which hosted models never
    use; the runner's path is tested through `vmevalkit run` in test_hosted_run.py)."""
    settings = {**FAST, **{k: str(v).format(root=fake.root) for k, v in (case.overrides or {}).items()},
                **overrides}
    spec = get_spec(model_id(case, fake))
    check_environment(spec.id)
    model = spec.build(spec, resolve_settings(spec, settings), "cpu", None, None)
    model.id, model.workdir = spec.id, workdir
    return model


def generate(model, q: Question | None = None, seed: int = 11):
    q = q or question()
    image = Fit.plan(q.first_frame, model.resolution or q.first_frame.size).apply(q.first_frame)
    return model.generate(q, image, seed=seed)


def ledger_records(workdir: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((workdir / "jobs").glob("*.json"))]


def tree_text(root: Path) -> str:
    """Every file under `root` as text (binary files decoded loosely), for grepping."""
    return "\n".join(p.read_bytes().decode("utf-8", "replace") for p in root.rglob("*") if p.is_file())
