"""The official loaders of the conditioning image, PIL image -> (1, 3, H, W) float32 in [-1, 1].

VideoCrafter's `load_image_batch` resizes to the video size with cv2's INTER_LINEAR (no antialiasing, the
aspect ratio is not kept); DynamiCrafter's `load_data_prompts` resizes the shorter edge to min(H, W) with
PIL's bilinear filter, then centre-crops to H x W, padding with black where the image is too narrow."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from vmevalkit.images import to_rgb


def resize_bilinear(image: Image.Image, height: int, width: int) -> torch.Tensor:
    """VideoCrafter: bilinear to exactly height x width, half-pixel centres, no antialiasing (= cv2 INTER_LINEAR)."""
    x = torch.from_numpy(np.asarray(to_rgb(image), dtype=np.float32)).permute(2, 0, 1)[None]
    if x.shape[-2:] != (height, width):
        x = F.interpolate(x, (height, width), mode="bilinear", align_corners=False, antialias=False)
    return x / 255.0 * 2.0 - 1.0


def resize_and_center_crop(image: Image.Image, height: int, width: int) -> torch.Tensor:
    """DynamiCrafter: torchvision's Resize(min(height, width)) (shorter edge to that size, the longer one
    int(size * long / short), PIL bilinear; skipped when the size is already right), CenterCrop((height, width))
    (black padding first where the image is smaller), ToTensor and Normalize(0.5, 0.5)."""
    image = to_rgb(image)
    w, h = image.size
    short = min(height, width)
    size = (short, int(short * h / w)) if w <= h else (int(short * w / h), short)
    if size != (w, h):
        image = image.resize(size, Image.Resampling.BILINEAR)
    pixels = np.asarray(image)
    h, w = pixels.shape[:2]
    if height > h or width > w:
        top, left = max(height - h, 0) // 2, max(width - w, 0) // 2
        padded = np.zeros((max(h, height), max(w, width), 3), np.uint8)
        padded[top:top + h, left:left + w] = pixels
        pixels = padded
        h, w = pixels.shape[:2]
    top, left = int(round((h - height) / 2.0)), int(round((w - width) / 2.0))
    crop = torch.from_numpy(np.array(pixels[top:top + height, left:left + width]))
    return crop.permute(2, 0, 1)[None].float().div(255).sub(0.5).div(0.5)
