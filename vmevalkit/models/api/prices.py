"""Estimated prices of the hosted models, per second or per clip, and the user's own price file.

These are list prices copied by hand from the pages named in `source`, on the date in `date`; providers change
them, so they are estimates for `--dry-run` and `--max-cost`, never a bill. A user overrides or adds entries
with a JSON file named by the environment variable VMEVALKIT_PRICES, keyed by model id (for prefixed ids such
as `fal:<endpoint>`, the folder id the kit makes, shown by `vmevalkit models`):

    {"kling-v2-6": {"usd": {"std/5": 0.21, "pro/5": 0.35}, "unit": "clip", "by": ["mode", "duration"]},
     "fal-fal-ai-my-video": {"usd": 0.05, "unit": "second"}}

`unit` "second" multiplies the rate by the `duration` setting; "clip" is paid once per video. With `by`, the
rate is looked up under the values of those settings joined by "/"."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vmevalkit.errors import UserError
from vmevalkit.jsonfile import read_json_object

ENV_PRICES = "VMEVALKIT_PRICES"
UNITS = ("second", "clip")


@dataclass(frozen=True)
class Price:
    usd: float | Mapping[str, float]  # the rate, or rates keyed by the `by` settings' values
    unit: str = "second"
    by: tuple[str, ...] = ()
    source: str = ""
    date: str = ""

    def estimate(self, settings: Mapping[str, Any]) -> float | None:
        """USD for one video made with `settings`, None when the table has no rate for them."""
        if self.by:
            if not isinstance(self.usd, Mapping):
                return None
            rate = self.usd.get("/".join(str(settings.get(k)) for k in self.by))
        else:
            rate = self.usd if not isinstance(self.usd, Mapping) else None
        if rate is None:
            return None
        if self.unit == "clip":
            return round(float(rate), 4)
        duration = settings.get("duration")
        return None if duration is None else round(float(rate) * float(duration), 4)


_GEMINI = "https://ai.google.dev/gemini-api/docs/pricing (as summarised by aifreeapi.com, checked 2026-03-02)"
_KLING = ("Kling API price list, 1 unit = $0.14, no audio (transcribed in inference-sh/grid "
          "api/klingai/pricing.md, read 2026-12-01)")
_RUNWAY = "docs.dev.runwayml.com/guides/pricing: credits per second x $0.01 (quoted by skillspool.org, 2026)"
_SEEDANCE = ("fal.ai model page: per million video tokens, tokens = width x height x 24 fps x seconds / 1024 "
             "(read 2026-12-01); rates below are per second at 16:9")
_SORA = "platform.openai.com/docs/pricing at launch (2025-10); the Sora API was retired on 2026-09-24"
_KLING_CLIP = {"std/5": 0.21, "std/10": 0.42, "pro/5": 0.35, "pro/10": 0.70}

BUILT_IN: dict[str, Price] = {
    "veo-2.0-generate": Price(0.35, source=_GEMINI, date="2025-04"),
    "veo-3.0-generate": Price(0.40, source=_GEMINI, date="2026-03-02"),
    "veo-3.0-fast-generate": Price(0.15, source=_GEMINI, date="2026-03-02"),
    "veo-3.1-generate": Price(0.40, source=_GEMINI, date="2026-03-02"),
    "veo-3.1-fast-generate": Price(0.15, source=_GEMINI, date="2026-03-02"),
    "kling-v2-6": Price(_KLING_CLIP, unit="clip", by=("mode", "duration"), source=_KLING, date="2026-12-01"),
    "kling-v2-5-turbo": Price(_KLING_CLIP, unit="clip", by=("mode", "duration"), source=_KLING, date="2026-12-01"),
    "kling-v2-1-master": Price({"5": 1.40, "10": 2.80}, unit="clip", by=("duration",), source=_KLING,
                               date="2026-12-01"),
    "kling-v1-6": Price({"std/5": 0.28, "std/10": 0.56, "pro/5": 0.49, "pro/10": 0.98}, unit="clip",
                        by=("mode", "duration"), source=_KLING, date="2026-12-01"),
    "runway-gen45": Price(0.12, source=_RUNWAY, date="2026"),
    "runway-gen4-turbo": Price(0.05, source=_RUNWAY, date="2026"),
    # Dream Machine API: $0.0064 per million pixels (1280x720 x 24 fps = 22.1 Mpx per second at 720p).
    "luma-ray-2": Price({"540p": 0.0796, "720p": 0.1416, "1080p": 0.3185, "4k": 1.274}, by=("resolution",),
                        source="lumalabs.ai/api pricing, $0.0064 per million pixels (2025; not re-read here)",
                        date="2025"),
    "luma-ray-3.2": Price({"540p/5": 0.15, "720p/5": 0.30, "1080p/5": 1.20, "540p/10": 0.45, "720p/10": 0.90,
                           "1080p/10": 3.60}, unit="clip", by=("resolution", "duration"),
                          source="docs.agents.lumalabs.ai/guides/pricing, SDR pay-as-you-go (quoted by "
                                 "calesthio/generative-media-skills)", date="2026-07-10"),
    "seedance-v1-pro": Price({"480p": 0.0243, "720p": 0.054, "1080p": 0.1215}, by=("resolution",),
                             source=_SEEDANCE + "; $2.5 per million tokens", date="2026-12-01"),
    "seedance-v1-lite": Price({"480p": 0.0175, "720p": 0.0389, "1080p": 0.0875}, by=("resolution",),
                              source=_SEEDANCE + "; $1.8 per million tokens (not re-read here)", date="2025"),
    "wavespeed-wan-2.2-i2v-480p": Price(0.03, source="wavespeed.ai model page, $0.15 per 5 s (not re-read here)",
                                        date="2025"),
    "wavespeed-wan-2.2-i2v-720p": Price(0.06, source="wavespeed.ai model page, $0.30 per 5 s (not re-read here)",
                                        date="2025"),
    "sora-2-wavespeed": Price(0.10, source="assumed equal to OpenAI's list price (not re-read here)", date="2025"),
    "veo-3.1-wavespeed": Price(0.40, source="assumed equal to Google's list price (not re-read here)", date="2026"),
    "openai-sora-2": Price(0.10, source=_SORA, date="2025-10"),
    "openai-sora-2-pro": Price({"1280x720": 0.30, "720x1280": 0.30, "1792x1024": 0.50, "1024x1792": 0.50},
                               by=("size",), source=_SORA, date="2025-10"),
}


@dataclass
class _UserPrices:
    path: Path | None = None
    mtime: float | None = None
    prices: dict[str, Price] = field(default_factory=dict)


_cache = _UserPrices()


def _parse(path: Path, model_id: str, entry: Any) -> Price:
    where = f"{path}: entry {model_id!r}"
    if not isinstance(entry, dict) or "usd" not in entry:
        raise UserError(f"{where} must be an object with \"usd\" (a number, or numbers keyed by setting values)")
    usd, unit, by = entry["usd"], entry.get("unit", "second"), entry.get("by", [])
    if unit not in UNITS:
        raise UserError(f"{where}: \"unit\" must be one of {', '.join(UNITS)}, not {unit!r}")
    if isinstance(by, str):
        by = [by]
    if not isinstance(by, list) or not all(isinstance(b, str) for b in by):
        raise UserError(f"{where}: \"by\" must be a list of setting names")
    numbers = list(usd.values()) if isinstance(usd, dict) else [usd]
    if not numbers or not all(isinstance(n, (int, float)) and not isinstance(n, bool) and n >= 0 for n in numbers):
        raise UserError(f"{where}: \"usd\" must hold non-negative numbers")
    if isinstance(usd, dict) != bool(by):
        raise UserError(f"{where}: give \"by\" exactly when \"usd\" is keyed by setting values")
    return Price(usd, unit=unit, by=tuple(by), source=str(entry.get("source", str(path))),
                 date=str(entry.get("date", "")))


def user_prices() -> dict[str, Price]:
    """The entries of the file named by VMEVALKIT_PRICES (re-read when it changes); {} when unset."""
    name = os.environ.get(ENV_PRICES)
    if not name:
        return {}
    path = Path(name)
    if not path.is_file():
        raise UserError(f"{ENV_PRICES}={name}: no such file; point it at a JSON price file or unset it")
    mtime = path.stat().st_mtime
    if _cache.path != path or _cache.mtime != mtime:
        data = read_json_object(path)
        _cache.prices = {str(k): _parse(path, str(k), v) for k, v in data.items()}
        _cache.path, _cache.mtime = path, mtime
    return _cache.prices


def price_of(model_id: str) -> Price | None:
    """The price entry of a model: the user's file first, then the built-in table."""
    return user_prices().get(model_id) or BUILT_IN.get(model_id)


def estimate(model_id: str, settings: Mapping[str, Any]) -> float | None:
    """Estimated USD for one video of `model_id` with `settings`; None when the price is unknown."""
    price = price_of(model_id)
    return None if price is None else price.estimate(settings)
