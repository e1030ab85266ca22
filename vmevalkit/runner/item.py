"""Making one item: fit the first frame, generate, and describe what happened. Runs wherever the model is
(this process, or a Ray actor); what it returns is written by the experiment's writer."""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from vmevalkit.geometry import Fit
from vmevalkit.models import ModelSpec
from vmevalkit.models.base import VideoModel
from vmevalkit.results import error_kind
from vmevalkit.runner.plan import Item
from vmevalkit.secrets import scrub
from vmevalkit.video import Video, motion_stats


@dataclass
class Produced:
    """The outcome of one generate call: metadata to add, and the video and model input to write."""

    metadata: dict[str, Any] = field(default_factory=dict)
    video: Video | None = None
    model_input: Image.Image | None = None

    @property
    def ok(self) -> bool:
        return self.metadata.get("status") == "ok"

    @property
    def error_kind(self) -> str | None:
        return error_kind(self.metadata)


def error_record(e: BaseException, stage: str) -> dict[str, Any]:
    """How a failure is recorded: type, message, traceback (scrubbed of secrets), stage, and its kind when the
    exception names one (a hosted model's refused / timeout / provider_error / invalid_request / auth)."""
    record = {"type": type(e).__name__, "message": scrub(str(e)), "stage": stage,
              "traceback": scrub(traceback.format_exc())}
    kind = getattr(e, "kind", None)
    if isinstance(kind, str):
        record["kind"] = kind
    return record


def produce(model: VideoModel, item: Item, fit_policy: str, progress: bool) -> Produced:
    """Fit the item's first frame to the model, generate its video, and say how it went (never raises)."""
    out = Produced()
    t0 = time.perf_counter()
    question = item.question
    try:
        fit = Fit.plan(question.first_frame, model.resolution or question.first_frame.size, fit_policy)
        out.metadata["fit"] = fit.to_dict()
        image = fit.apply(question.first_frame)
        if model.resolution is not None:  # else the model saw the question's own first frame: no copy needed
            out.model_input = image
        video = model.generate(question, image, seed=item.seed, progress=progress)
        out.metadata["generate_s"] = round(time.perf_counter() - t0, 3)
        if video.info:
            out.metadata["generation"] = dict(video.info)
        out.metadata["motion"] = motion_stats(video)
        out.metadata["status"] = "ok"
        out.video = video
    except Exception as e:  # noqa: BLE001 -- recorded in this item's metadata; the run goes on
        out.metadata.update(status="failed", error=error_record(e, "generate"))
        out.model_input = None
    return out


def item_metadata(experiment: str, spec: ModelSpec, described: dict[str, Any], settings: dict[str, Any],
                  item: Item, samples: int, device: str, dtype: str, run_seed: int, fit_policy: str,
                  versions: dict[str, Any]) -> dict[str, Any]:
    """The record of how an item is made; `described` is the loaded model's describe()."""
    q = item.question
    device = "cpu" if spec.kind == "control" or spec.remote else device
    return {
        "status": "running",
        "model": spec.id,
        "model_description": {"family": spec.family, "kind": spec.kind, "description": spec.description,
                              "reference": spec.reference or spec.id, "sees": list(spec.sees),
                              "untrained": spec.untrained, "device": device, "dtype": dtype, **described},
        "untrained": spec.untrained,
        "experiment": experiment,
        "question": {"id": q.id, "domain": q.domain, "key": q.key, "fingerprint": q.fingerprint,
                     "prompt": q.prompt, "source": str(q.source) if q.source else None,
                     "has_ground_truth": q.ground_truth is not None, "has_final_frame": q.final_frame is not None},
        "sample": item.sample,
        "samples": samples,
        "settings": settings,
        "seed": item.seed,
        "run_seed": run_seed,
        "fit_policy": fit_policy,
        "result_key": item.key,
        "device": device,
        "versions": versions,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def finish_metadata(meta: dict[str, Any], produced: Produced, load_seconds: float | None) -> dict[str, Any]:
    """The item's metadata with the outcome of `produce` merged in (timings in one place)."""
    extra = dict(produced.metadata)
    timings = {"model_load_s": round(load_seconds, 3)} if load_seconds is not None else {}
    if "generate_s" in extra:
        timings["generate_s"] = extra.pop("generate_s")
    meta.update(extra)
    meta["timings"] = timings
    return meta
