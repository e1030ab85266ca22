"""Test-only: write experiment output trees in the vmevalkit.results layout, with the two controls."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from vmevalkit.atomic import write_json
from vmevalkit.geometry import Fit
from vmevalkit.questions import Question, save_png, write_question
from vmevalkit.results import LAST_FRAME, METADATA, QUESTION_DIR, VIDEO, item_dir
from vmevalkit.video import Video, read_mp4, write_mp4

MODEL_SIZE = (256, 160)  # a model resolution unlike every test question's, so videos are fitted back


def static_frames(question: Question, frames: int = 6) -> list[Image.Image]:
    return [question.first_frame] * frames


def oracle_frames(question: Question, frames: int = 6) -> list[Image.Image]:
    if question.ground_truth is not None:
        video = read_mp4(question.ground_truth)
        return [video.frame(i) for i in range(video.num_frames)]
    return [question.first_frame] * (frames // 2) + [question.final_frame] * (frames - frames // 2)


def write_item(experiment: Path, model: str, question: Question, images: list[Image.Image],
               model_size: tuple[int, int] | None = MODEL_SIZE, status: str = "ok", sample: int = 0,
               samples: int | None = None, **metadata) -> Path:
    """Write one item as the runner does: the video at the model's size, the fit, the question copy. With
    `samples` (as `run --samples K` writes), sample k's folder is `<question>@k` for k >= 1 and the metadata
    names the sample and the number of samples; without, the item is as written before samples."""
    folder = item_dir(experiment, model, question, sample)
    folder.mkdir(parents=True, exist_ok=True)
    fit = Fit.plan(question.first_frame, model_size) if model_size else None
    fitted = {id(im): fit.apply(im) if fit else im for im in images}  # controls repeat the same image
    video = Video.from_images([fitted[id(im)] for im in images], fps=8)
    if question.source is not None:
        shutil.copytree(question.source, folder / QUESTION_DIR, dirs_exist_ok=True)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            shutil.copytree(write_question(question, tmp), folder / QUESTION_DIR, dirs_exist_ok=True)
    if status == "ok":
        write_mp4(video, folder / VIDEO)
        save_png(video.last_frame, folder / LAST_FRAME)
    write_json(folder / METADATA, {
        "status": status, "model": model, "question": {"domain": question.domain, "id": question.id},
        "fit": fit.to_dict() if fit else None, "seed": 0,
        **({"sample": sample, "samples": samples} if samples is not None else {}),
        **({"error": "generation failed"} if status != "ok" else {}), **metadata})
    return folder


def write_controls(experiment: Path, questions: list[Question], model_size=MODEL_SIZE) -> None:
    """The `static` and `oracle` controls for every question."""
    for q in questions:
        write_item(experiment, "static", q, static_frames(q), model_size)
        write_item(experiment, "oracle", q, oracle_frames(q), model_size)


def noise_frames(question: Question, frames: int = 4, seed: int = 0) -> list[Image.Image]:
    rng = np.random.default_rng(seed)
    w, h = question.first_frame.size
    return [Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)) for _ in range(frames)]


def cards_image(slots: int, filled: int, background: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    """A board with `slots` outlined slots, the first `filled` of them holding a dark card."""
    image = Image.new("RGB", (200, 100), background)
    draw = ImageDraw.Draw(image)
    for i in range(slots):
        x = 10 + i * 45
        draw.rectangle((x, 30, x + 35, 70), outline=(0, 0, 0), fill=(20, 20, 160) if i < filled else None)
    return image


def card_questions(count: int = 3, domain: str = "cards") -> list[Question]:
    """Small synthetic questions: question i asks for i + 1 cards in the slots (i < 4)."""
    return [Question(id=f"{domain}_{i:02d}", domain=domain, prompt=f"put {i + 1} card(s) into the slots",
                     first_frame=cards_image(4, 0), final_frame=cards_image(4, i + 1)) for i in range(count)]


def card_dataset(root: Path, count: int = 3) -> Path:
    """A dataset root of `count` card questions, as `vmevalkit tasks generate` lays them out."""
    for q in card_questions(count):
        write_question(q, root)
    return root
