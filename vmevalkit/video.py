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

from vmevalkit import limits
from vmevalkit.atomic import atomic_path
from vmevalkit.errors import StorageError, UserError

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
        except OSError as e:  # disk full, folder gone or read-only (PyAV's errno errors are OSErrors too)
            raise StorageError(e.errno, f"{path}: cannot write the video: {(e.strerror or str(e)).lower()}; free "
                               "some space or choose another output folder, then rerun") from e
        except (av.FFmpegError, ValueError) as e:  # codec missing or refused: try the next one
            last_error = e
    raise RuntimeError(f"could not write {path}: no usable mp4 codec among {MP4_CODECS}: {last_error}")


@dataclass(frozen=True)
class VideoProbe:
    """What a sound video file holds, as its container header and packets say (see probe_mp4)."""

    width: int
    height: int
    frames: int
    fps: float
    codec: str


def _video_stream(container: av.container.InputContainer, path: Path) -> av.video.stream.VideoStream:
    if not container.streams.video:
        raise UserError(f"{path}: not a readable video (it holds no video stream)")
    stream = container.streams.video[0]
    if stream.width < 1 or stream.height < 1:
        raise UserError(f"{path}: not a readable video (its header gives no frame size)")
    return stream


def _check_pixels(path: Path, width: int, height: int, frames: int) -> None:
    limits.VIDEO_PIXELS.check(width * height * frames, f"{path} ({width}x{height}, {frames} frames)",
                              "use a shorter or smaller video")


def probe_mp4(path: str | os.PathLike) -> VideoProbe:
    """Check a video file cheaply, without decoding every frame: its container header opens, names a frame
    size, and lists as many complete packets as it has frames (a truncated file lacks some, or ends inside
    one), and its first frame decodes. Raises UserError naming the file and what is wrong with it."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: video file not found")
    size = path.stat().st_size
    if size == 0:
        raise UserError(f"{path}: empty video file (0 bytes)")
    try:
        with av.open(str(path)) as container:
            stream = _video_stream(container, path)
            packets, end, corrupt = 0, 0, False
            for packet in container.demux(stream):
                if packet.size:  # the demuxer ends with an empty flush packet
                    packets += 1
                    end = max(end, max(packet.pos or 0, 0) + packet.size)
                    corrupt = corrupt or packet.is_corrupt
            frames = stream.frames or packets
            if corrupt or end > size or packets < frames:
                raise UserError(f"{path}: truncated video: its header lists {frames} frames, "
                                f"{packets} packets are there" + (" and the last is cut off" if corrupt else ""))
            container.seek(0)
            next(container.decode(stream))
            rate = stream.average_rate or stream.guessed_rate or 0
            return VideoProbe(stream.width, stream.height, frames, float(rate), stream.codec_context.name)
    except (av.FFmpegError, StopIteration) as e:
        raise UserError(f"{path}: not a readable video ({e or 'no frame decodes'})") from e


def read_mp4(path: str | os.PathLike) -> Video:
    """Read every frame of a video file as RGB uint8. The file's size and its width x height x frames (from
    the container header, and again while decoding) are bounded by vmevalkit.limits.VIDEO_BYTES and
    VIDEO_PIXELS."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: video file not found")
    limits.VIDEO_BYTES.check(path.stat().st_size, str(path), "use a shorter or smaller video")
    try:
        with av.open(str(path)) as container:
            stream = _video_stream(container, path)
            _check_pixels(path, stream.width, stream.height, stream.frames)
            rate = stream.average_rate or stream.guessed_rate or 8
            frames = []
            for frame in container.decode(stream):  # the header may understate the frames: count them too
                _check_pixels(path, frame.width, frame.height, len(frames) + 1)
                frames.append(frame.to_ndarray(format="rgb24"))
    except av.FFmpegError as e:
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
