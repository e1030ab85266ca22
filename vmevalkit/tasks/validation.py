"""Validating the exact scorers: the oracle must pass, a held first frame and a wrong final state
must fail, the oracle must still pass after what video models do to frames, and generation must
be byte-identical across processes. Where a task checks consistency, the oracle, the held first
frame and the distorted oracles must be judged consistent, and the oracle ending on a frame that
also changes a part the task must leave alone (`Task.inconsistent_final_frame`) must be judged
correct but inconsistent; tasks without that check show "n/a".

The distortions are those of the issue: fit to 512x320 (letterbox) and back, Gaussian blur
sigma=1 px, Gaussian noise sigma=5/255, JPEG quality 50, and a small colour shift; `all` applies
them one after the other."""

from __future__ import annotations

import hashlib
import io
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from vmevalkit.geometry import Fit
from vmevalkit.questions import read_question
from vmevalkit.scoring.base import Score
from vmevalkit.tasks import generate_questions, get_task
from vmevalkit.tasks._video import cut_video, ending_on, held_video
from vmevalkit.video import Video, read_mp4

MODEL_SIZE = (512, 320)  # VideoCrafter's (width, height)
BLUR_SIGMA = 1.0
NOISE_SIGMA = 5.0  # grey levels of 255
JPEG_QUALITY = 50
COLOUR_GAIN = (1.05, 0.96, 1.0)  # per channel, then the offset below, in grey levels
COLOUR_OFFSET = (6.0, -4.0, 8.0)


def _per_frame(video: Video, fn: Callable[[Image.Image], Image.Image]) -> Video:
    return Video.from_images([fn(video.frame(i)) for i in range(video.num_frames)], video.fps)


def fit_roundtrip(video: Video, rng: np.random.Generator) -> Video:
    """Letterbox every frame into the model's 512x320 and map it back, as the runner and scorer do."""
    fit = Fit.plan(video.frame(0), MODEL_SIZE, "letterbox")
    return fit.invert_video(_per_frame(video, fit.apply))


def blur(video: Video, rng: np.random.Generator) -> Video:
    return _per_frame(video, lambda im: im.filter(ImageFilter.GaussianBlur(BLUR_SIGMA)))


def noise(video: Video, rng: np.random.Generator) -> Video:
    noisy = rng.standard_normal(video.frames.shape, dtype=np.float32)
    noisy *= NOISE_SIGMA
    noisy += video.frames
    np.rint(noisy, out=noisy)
    return Video(np.clip(noisy, 0, 255, out=noisy).astype(np.uint8), video.fps)


def _jpeg(image: Image.Image) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return decoded.convert("RGB")


def jpeg(video: Video, rng: np.random.Generator) -> Video:
    return _per_frame(video, _jpeg)


def colour_shift(video: Video, rng: np.random.Generator) -> Video:
    levels = np.arange(256, dtype=np.float64)[:, None] * COLOUR_GAIN + COLOUR_OFFSET
    lut = np.clip(np.rint(levels), 0, 255).astype(np.uint8)  # 256 x 3: one table per channel
    return Video(np.stack([lut[video.frames[..., c], c] for c in range(3)], axis=-1), video.fps)


def all_distortions(video: Video, rng: np.random.Generator) -> Video:
    for distort in (fit_roundtrip, blur, noise, jpeg, colour_shift):
        video = distort(video, rng)
    return video


DISTORTIONS: dict[str, Callable[[Video, np.random.Generator], Video]] = {
    "fit": fit_roundtrip, "blur": blur, "noise": noise, "jpeg": jpeg, "colour": colour_shift,
    "all": all_distortions,
}


@dataclass
class QuestionCheck:
    """How the task's scorer judged one question's oracle, static, wrong and distorted videos."""

    key: str
    scores: dict[str, Score]

    def passed(self, video: str) -> bool:
        """Oracle and distorted oracles pass when judged correct; static and wrong when judged incorrect."""
        correct = self.scores[video].correct
        return correct is False if video in ("static", "wrong") else correct is True

    def consistency_passed(self, video: str) -> bool | None:
        """The inconsistent oracle passes when judged correct and inconsistent, every other video when judged
        consistent; None where there is no reading (the task has no consistency check or no such video)."""
        score = self.scores.get(video)
        if score is None or score.consistent is None:
            return None
        if video == "inconsistent":
            return score.correct is True and score.consistent is False
        return score.consistent


def check_question(folder: Path, seed: int, distortions: dict = DISTORTIONS) -> QuestionCheck:
    """Score one generated question folder's ground-truth video, a held first frame, a wrong final
    state, and the ground truth under each distortion."""
    question = read_question(folder)
    task = get_task(question.metadata["task"])
    oracle = read_mp4(question.ground_truth)
    videos = {"oracle": oracle, "static": held_video(question.first_frame),
              "wrong": cut_video(question.first_frame, task.wrong_final_frame(question, seed))}
    try:
        videos["inconsistent"] = ending_on(oracle, task.inconsistent_final_frame(question, seed))
    except NotImplementedError:  # the task has no consistency check yet: its columns read n/a
        pass
    digest = hashlib.sha256(question.key.encode()).digest()
    for name, distort in distortions.items():
        rng = np.random.default_rng([seed, int.from_bytes(digest[:8], "little")])
        videos[f"distorted:{name}"] = distort(oracle, rng)
    return QuestionCheck(question.key, {name: task.score(question, video) for name, video in videos.items()})


def answer_area(question_folder: Path) -> float:
    """Share of pixels that differ clearly (> 40 grey levels in a channel) between first and final frame."""
    question = read_question(question_folder)
    first = np.asarray(question.first_frame, dtype=np.int16)
    final = np.asarray(question.final_frame, dtype=np.int16)
    return float((np.abs(first - final).max(axis=-1) > 40).mean())


@dataclass
class TaskValidation:
    task: str
    checks: list[QuestionCheck] = field(default_factory=list)
    answer_areas: list[float] = field(default_factory=list)
    deterministic: bool | None = None

    def rate(self, video: str) -> float:
        """Share of questions where `video` passed: oracle/distorted correct, static/wrong caught."""
        return sum(c.passed(video) for c in self.checks) / max(1, len(self.checks))

    def failures(self, video: str) -> list[QuestionCheck]:
        return [c for c in self.checks if not c.passed(video)]

    def ran(self, video: str) -> bool:
        """Whether `video` was made and judged (a distortion left out of `validate_task` was not)."""
        return any(video in c.scores for c in self.checks)

    def consistency_rate(self, video: str) -> float | None:
        """Share of questions whose `video` passed its consistency check (a question without a reading
        fails), or None when no question has one (the task does not check consistency)."""
        results = [c.consistency_passed(video) for c in self.checks]
        if all(r is None for r in results):
            return None
        return sum(r is True for r in results) / len(results)

    def consistency_failures(self, video: str) -> list[QuestionCheck]:
        if self.consistency_rate(video) is None:
            return []
        return [c for c in self.checks if c.consistency_passed(video) is not True]

    def distorted_consistency(self) -> tuple[float, str] | None:
        """The lowest consistency rate of the distorted oracles and the distortion it is for, or None."""
        rates = [(rate, d) for d in DISTORTIONS if (rate := self.consistency_rate(f"distorted:{d}")) is not None]
        return min(rates) if rates else None

    def consistency_ok(self) -> bool:
        """Targets met, or nothing to check: oracle and static 100 % consistent, the inconsistent oracle
        caught >= 95 %, every distorted oracle >= 95 % consistent."""
        if self.consistency_rate("oracle") is None:
            return True
        worst = self.distorted_consistency()
        return (self.consistency_rate("oracle") == 1 and self.consistency_rate("static") == 1
                and (self.consistency_rate("inconsistent") or 0) >= 0.95 and worst is not None and worst[0] >= 0.95)


def validate_task(name: str, n: int, seed: int, out_dir: str | os.PathLike,
                  distortions: dict = DISTORTIONS) -> TaskValidation:
    """Generate `n` questions of task `name` into `out_dir` and check each of them."""
    folders = generate_questions([name], n, seed, None, out_dir)
    return TaskValidation(name, [check_question(f, seed, distortions) for f in folders],
                          [answer_area(f) for f in folders])


def tree_digest(root: str | os.PathLike) -> dict[str, str]:
    """sha256 of every file under `root`, keyed by its relative path."""
    root = Path(root)
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _generate_in_child(names: list[str], n: int, seed: int, out_dir: str) -> dict[str, str]:
    generate_questions(names, n, seed, None, out_dir)
    return tree_digest(out_dir)


def deterministic_across_processes(names: list[str], n: int, seed: int, dir_a: str | os.PathLike,
                                   dir_b: str | os.PathLike) -> dict[str, bool]:
    """Generate the same questions here and in a freshly spawned process (own hash salt, own
    imports); per task, whether every file came out byte-identical."""
    generate_questions(names, n, seed, None, dir_a)
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        other = pool.submit(_generate_in_child, names, n, seed, str(dir_b)).result()
    here = tree_digest(dir_a)
    return {name: {k: v for k, v in here.items() if k.startswith(f"{name}_task/")}
            == {k: v for k, v in other.items() if k.startswith(f"{name}_task/")} for name in names}


COLUMNS = ("oracle", "static", "wrong", *(f"distorted:{d}" for d in DISTORTIONS))
CONSISTENCY_COLUMNS = ("oracle", "static", "inconsistent", *(f"distorted:{d}" for d in DISTORTIONS))


def _percent(rate: float | None) -> str:
    return "n/a" if rate is None else f"{100 * rate:.0f} %"


def table(results: list[TaskValidation]) -> str:
    """A Markdown table: per task, the median share of pixels the answer changes, oracle % correct,
    static % correct, wrong % caught, distorted oracle % correct, whether generation is
    byte-identical across processes, then the consistency checks: oracle and static % consistent,
    inconsistent oracle % caught (correct and inconsistent), and the lowest % consistent over the
    distorted oracles (naming the distortion when under 100 %)."""
    head = ["task", "n", "pixels changed", "oracle correct", "static correct", "wrong caught",
            *(f"{d} correct" for d in DISTORTIONS), "byte-identical", "oracle consistent", "static consistent",
            "inconsistent caught", "distorted consistent"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        cells = [r.task, str(len(r.checks)), f"{100 * float(np.median(r.answer_areas or [0])):.1f} %",
                 f"{100 * r.rate('oracle'):.0f} %",
                 f"{100 * (1 - r.rate('static')):.0f} %", f"{100 * r.rate('wrong'):.0f} %",
                 *(_percent(r.rate(f"distorted:{d}")) if r.ran(f"distorted:{d}") else "not run" for d in DISTORTIONS),
                 {True: "yes", False: "NO", None: "not checked"}[r.deterministic],
                 _percent(r.consistency_rate("oracle")), _percent(r.consistency_rate("static")),
                 _percent(r.consistency_rate("inconsistent")), _distorted_text(r.distorted_consistency())]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _distorted_text(worst: tuple[float, str] | None) -> str:
    if worst is None:
        return "n/a"
    return _percent(worst[0]) + ("" if worst[0] == 1 else f" ({worst[1]})")
