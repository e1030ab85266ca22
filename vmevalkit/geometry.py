"""Fitting a question's frame to a model's resolution, and mapping the model's frames back.

A model sees the first frame at its own size (e.g. 320x512 for VideoCrafter). `Fit` records how the
frame was fitted so that a scorer can map every generated frame back to the question's geometry:

- `letterbox` (default): scale to fit inside, pad with the image's border colour; nothing is lost.
- `crop`: scale to cover, cut the overflow evenly from both sides; the cut parts are not seen.
- `stretch`: resize to exactly the target size, changing the aspect ratio.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

if TYPE_CHECKING:
    from vmevalkit.video import Video

POLICIES = ("letterbox", "crop", "stretch")


def border_colour(image: Image.Image) -> tuple[int, int, int]:
    """The median colour of the image's outermost pixel ring."""
    a = np.asarray(image.convert("RGB"))
    ring = np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])
    return tuple(int(v) for v in np.median(ring, axis=0))


@dataclass(frozen=True)
class Fit:
    """How a `src_size` image was placed in a `dst_size` frame (sizes are (width, height)).

    The source image, scaled by (sx, sy), has its top-left corner at (left, top) in the frame; for
    `crop` the offsets are negative."""

    policy: str
    src_size: tuple[int, int]
    dst_size: tuple[int, int]
    sx: float
    sy: float
    left: int
    top: int
    fill: tuple[int, int, int]

    @classmethod
    def plan(cls, image: Image.Image, dst_size: tuple[int, int], policy: str = "letterbox") -> "Fit":
        if policy not in POLICIES:
            raise ValueError(f"unknown fit policy {policy!r}; choose one of {', '.join(POLICIES)}")
        (w, h), (W, H) = image.size, dst_size
        if policy == "stretch":
            return cls(policy, (w, h), (W, H), W / w, H / h, 0, 0, border_colour(image))
        s = min(W / w, H / h) if policy == "letterbox" else max(W / w, H / h)
        sw, sh = round(w * s), round(h * s)
        return cls(policy, (w, h), (W, H), sw / w, sh / h, (W - sw) // 2, (H - sh) // 2, border_colour(image))

    @property
    def scaled_size(self) -> tuple[int, int]:
        return round(self.src_size[0] * self.sx), round(self.src_size[1] * self.sy)

    def apply(self, image: Image.Image) -> Image.Image:
        """Place `image` (of src_size) into a dst_size frame."""
        scaled = image.convert("RGB").resize(self.scaled_size, Image.Resampling.LANCZOS)
        canvas = Image.new("RGB", self.dst_size, self.fill)
        canvas.paste(scaled, (self.left, self.top))
        return canvas

    def invert(self, frame: Image.Image) -> Image.Image:
        """Map a dst_size frame back to src_size; parts the model never saw are filled with `fill`."""
        if frame.size != self.dst_size:
            frame = frame.resize(self.dst_size, Image.Resampling.BILINEAR)
        sw, sh = self.scaled_size
        box = (self.left, self.top, self.left + sw, self.top + sh)
        if self.policy == "crop":  # place the visible frame into the scaled source's coordinates
            canvas = Image.new("RGB", (sw, sh), self.fill)
            canvas.paste(frame.convert("RGB"), (-self.left, -self.top))
            region = canvas
        else:
            region = frame.convert("RGB").crop(box)
        return region.resize(self.src_size, Image.Resampling.LANCZOS)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Fit":
        return cls(d["policy"], tuple(d["src_size"]), tuple(d["dst_size"]), float(d["sx"]), float(d["sy"]),
                   int(d["left"]), int(d["top"]), tuple(d["fill"]))

    def invert_video(self, video: "Video") -> "Video":
        """Map every frame of a model's video back to the question's geometry."""
        from vmevalkit.video import Video as _Video

        return _Video.from_images([self.invert(video.frame(i)) for i in range(video.num_frames)], video.fps)
