"""The Video value (uint8 frames + fps), mp4 writing/reading through PyAV, and motion statistics."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from PIL import Image

from vmevalkit.atomic import atomic_path
from vmevalkit.errors import UserError

# Codecs tried in order when writing mp4: H.264 where PyAV's FFmpeg has it, else MPEG-4 part 2.
MP4_CODECS = ("libx264", "h264", "mpeg4")
STATIC_MEAN_ABS_DIFF = 0.5  # grey levels (0..255); below this on average a video counts as static


@dataclass(frozen=True, eq=False)
class Video:
    """A clip as frames[T, H, W, 3] of uint8 RGB plus a frame rate; `info` is what the model that made it
    records about the call (JSON-serialisable; see VideoModel)."""

    frames: np.ndarray
    fps: float
    info: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        f = self.frames
        if not isinstance(f, np.ndarray) or f.dtype != np.uint8 or f.ndim != 4 or f.shape[-1] != 3:
            raise ValueError(f"Video frames must be a uint8 array shaped T x H x W x 3, got "
                             f"{getattr(f, 'dtype', type(f))} {getattr(f, 'shape', '')}")
        if f.shape[0] < 1:
            raise ValueError("Video needs at least one frame")
        if not self.fps > 0:
            raise ValueError(f"Video fps must be positive, got {self.fps}")

    @property
    def num_frames(self) -> int:
        return int(self.frames.shape[0])

    @property
    def size(self) -> tuple[int, int]:
        """(width, height), as PIL gives image sizes."""
        return int(self.frames.shape[2]), int(self.frames.shape[1])

    def frame(self, index: int) -> Image.Image:
        return Image.fromarray(self.frames[index])

    @property
    def last_frame(self) -> Image.Image:
        return self.frame(-1)

    @classmethod
    def from_images(cls, images: list[Image.Image], fps: float) -> "Video":
        return cls(np.stack([np.asarray(im.convert("RGB"), dtype=np.uint8) for im in images]), fps)


def _even(n: int) -> int:
    return n + (n % 2)


def write_mp4(video: Video, path: str | os.PathLike, crf: int = 18) -> str:
    """Write `video` to `path` atomically; returns the codec used. Odd sizes are padded by one pixel
    (edge-replicated) because yuv420p needs even dimensions."""
    frames = video.frames
    h, w = frames.shape[1:3]
    eh, ew = _even(h), _even(w)
    if (eh, ew) != (h, w):
        frames = np.pad(frames, ((0, 0), (0, eh - h), (0, ew - w), (0, 0)), mode="edge")
    rate = Fraction(video.fps).limit_denominator(1001)
    last_error: Exception | None = None
    for codec in MP4_CODECS:
        try:
            with atomic_path(path) as tmp:
                with av.open(str(tmp), mode="w", format="mp4") as container:
                    stream = container.add_stream(codec, rate=rate)
                    stream.width, stream.height, stream.pix_fmt = ew, eh, "yuv420p"
                    if codec in ("libx264", "h264"):
                        stream.options = {"crf": str(crf), "preset": "medium"}
                    else:
                        stream.options = {"qscale": "2"}
                    for arr in frames:
                        for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(arr), "rgb24")):
                            container.mux(packet)
                    for packet in stream.encode():
                        container.mux(packet)
            return codec
        except (av.FFmpegError, ValueError) as e:  # codec missing or refused: try the next one
            last_error = e
    raise RuntimeError(f"could not write {path}: no usable mp4 codec among {MP4_CODECS}: {last_error}")


def read_mp4(path: str | os.PathLike) -> Video:
    """Read every frame of a video file as RGB uint8."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: video file not found")
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate or 8
            frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    except (av.FFmpegError, IndexError) as e:
        raise UserError(f"{path}: not a readable video ({e})") from e
    if not frames:
        raise UserError(f"{path}: video has no frames")
    return Video(np.stack(frames), float(rate))


def motion_stats(video: Video) -> dict:
    """How much a video moves: mean absolute difference between consecutive frames (grey levels), the share
    of consecutive pairs that are identical, the largest mean absolute difference of any frame from the first,
    and whether the video counts as static (no frame ever departs from the first by STATIC_MEAN_ABS_DIFF on
    average; judged from the first frame so that slow or small changes, like a dot walking a maze, count)."""
    f = video.frames.astype(np.int16)
    if video.num_frames < 2:
        return {"mean_abs_frame_diff": 0.0, "identical_pair_share": 1.0, "max_abs_diff_from_first": 0.0,
                "static": True, "num_frames": 1}
    diffs = np.abs(f[1:] - f[:-1]).reshape(video.num_frames - 1, -1)
    per_pair = diffs.mean(axis=1)
    mean_diff = float(per_pair.mean())
    drift = max(float(np.abs(frame - f[0]).mean()) for frame in f[1:])
    return {
        "mean_abs_frame_diff": round(mean_diff, 4),
        "identical_pair_share": round(float((diffs.max(axis=1) == 0).mean()), 4),
        "max_abs_diff_from_first": round(drift, 4),
        "static": drift < STATIC_MEAN_ABS_DIFF,
        "num_frames": video.num_frames,
    }
