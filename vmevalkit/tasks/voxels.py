"""A small voxel renderer: unit cubes on a floor plate, seen by an orthographic camera orbiting them.

Faces are rasterised with PIL into a z-buffer at twice the output size, shaded by a light fixed to
the camera, outlined where neighbouring pixels belong to different faces, and box-downsampled. Pure
numpy + PIL, so the same inputs give the same bytes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

Voxel = tuple[int, int, int]
RGB = tuple[int, int, int]

BACKGROUND: RGB = (236, 238, 242)
FLOOR: RGB = (178, 182, 190)
MARKER: RGB = (200, 40, 40)  # a strip on the floor's +y edge, so every azimuth looks different
EDGE: RGB = (35, 35, 45)
SUPERSAMPLE = 2

# The six faces of a unit cube at the origin: outward normal and corners in counter-clockwise order.
_FACES: tuple[tuple[Voxel, tuple[Voxel, ...]], ...] = (
    ((1, 0, 0), ((1, 0, 0), (1, 1, 0), (1, 1, 1), (1, 0, 1))),
    ((-1, 0, 0), ((0, 0, 0), (0, 0, 1), (0, 1, 1), (0, 1, 0))),
    ((0, 1, 0), ((0, 1, 0), (0, 1, 1), (1, 1, 1), (1, 1, 0))),
    ((0, -1, 0), ((0, 0, 0), (1, 0, 0), (1, 0, 1), (0, 0, 1))),
    ((0, 0, 1), ((0, 0, 1), (1, 0, 1), (1, 1, 1), (0, 1, 1))),
    ((0, 0, -1), ((0, 0, 0), (0, 1, 0), (1, 1, 0), (1, 0, 0))),
)


@dataclass(frozen=True)
class Camera:
    """An orthographic camera looking at the origin from `azimuth` degrees (counter-clockwise from +x,
    seen from above) and `elevation` degrees above the floor; `scale` is output pixels per unit."""

    azimuth: float
    elevation: float = 30.0
    scale: float = 60.0
    target_height: float = 1.0  # the camera looks at (0, 0, target_height)

    def axes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Screen right, screen up, and the direction towards the camera, as world vectors."""
        a, e = math.radians(self.azimuth), math.radians(self.elevation)
        toward = np.array([math.cos(e) * math.cos(a), math.cos(e) * math.sin(a), math.sin(e)])
        right = np.array([-math.sin(a), math.cos(a), 0.0])
        up = np.cross(toward, right)
        return right, up, toward


@dataclass(frozen=True)
class Scene:
    """Cubes (integer corners, each with a colour) standing on a square floor plate of `floor_half` units."""

    cubes: tuple[tuple[Voxel, RGB], ...]
    floor_half: float = 2.0

    def mirrored(self) -> Scene:
        """The mirror image across the x = 0 plane (the same cubes, opposite handedness)."""
        return Scene(tuple(((-x - 1, y, z), c) for (x, y, z), c in self.cubes), self.floor_half)


def _polygons(scene: Scene) -> list[tuple[np.ndarray, np.ndarray, RGB]]:
    """Every exposed cube face and the floor, as (corners 4x3, outward normal, colour); the cubes are
    centred horizontally on the plate."""
    occupied = {v for v, _ in scene.cubes}
    xs, ys = [v[0] for v in occupied], [v[1] for v in occupied]
    centre = np.array([(min(xs) + max(xs) + 1) / 2, (min(ys) + max(ys) + 1) / 2, 0.0])
    polys = []
    h = scene.floor_half
    up = np.array([0, 0, 1.0])
    polys.append((np.array([[-h, -h, 0], [h, -h, 0], [h, h, 0], [-h, h, 0]], float), up, FLOOR))
    s, lift = h - 0.35, 1e-3  # the marker strip runs along the plate's +y edge, a hair above it
    polys.append((np.array([[-h, s, lift], [h, s, lift], [h, h, lift], [-h, h, lift]], float), up, MARKER))
    for (x, y, z), colour in scene.cubes:
        for normal, corners in _FACES:
            if (x + normal[0], y + normal[1], z + normal[2]) in occupied:
                continue
            polys.append((np.array(corners, float) + (x, y, z) - centre, np.array(normal, float), colour))
    return polys


def _shade(colour: RGB, normal: np.ndarray, camera: Camera) -> np.ndarray:
    """Lambert shading with a light above and to the left of the camera."""
    right, up, toward = camera.axes()
    light = toward * 0.55 + up * 0.75 - right * 0.35
    light /= np.linalg.norm(light)
    k = 0.45 + 0.55 * max(0.0, float(normal @ light))
    return np.asarray(colour, float) * k


def render(scene: Scene, camera: Camera, size: tuple[int, int] = (512, 512)) -> Image.Image:
    """Draw `scene` from `camera` into an RGB image of `size` (width, height), centred on the origin."""
    s = SUPERSAMPLE
    W, H = size[0] * s, size[1] * s
    right, up, toward = camera.axes()
    px = camera.scale * s
    depth = np.full((H, W), -np.inf)
    face = np.zeros((H, W), np.int32)  # index into `palette`; 0 is the background
    palette = [np.asarray(BACKGROUND, float)]
    for corners, normal, rgb in _polygons(scene):
        if normal @ toward <= 1e-9:
            continue  # facing away
        xs = W / 2 + px * (corners @ right)
        ys = H / 2 - px * (corners @ up - camera.target_height * up[2])
        zs = corners @ toward  # larger is nearer the camera
        x0, x1 = max(math.floor(xs.min()), 0), min(math.ceil(xs.max()) + 1, W)
        y0, y1 = max(math.floor(ys.min()), 0), min(math.ceil(ys.max()) + 1, H)
        if x0 >= x1 or y0 >= y1:
            continue
        mask_im = Image.new("1", (x1 - x0, y1 - y0), 0)
        ImageDraw.Draw(mask_im).polygon([(float(a - x0), float(b - y0)) for a, b in zip(xs, ys)], fill=1)
        my, mx = np.nonzero(np.asarray(mask_im, bool))
        # the face is planar: its depth is an affine function of the screen position
        cx, cy, cz = np.linalg.solve(np.column_stack([xs[:3], ys[:3], np.ones(3)]), zs[:3])
        gy, gx = my + y0, mx + x0
        z = cx * gx + cy * gy + cz
        win = z > depth[gy, gx]
        depth[gy[win], gx[win]] = z[win]
        face[gy[win], gx[win]] = len(palette)
        palette.append(_shade(rgb, normal, camera))
    edge = np.zeros((H, W), bool)
    edge[:, 1:] |= face[:, 1:] != face[:, :-1]
    edge[1:, :] |= face[1:, :] != face[:-1, :]
    edge[:, :-1] |= edge[:, 1:].copy()  # two pixels wide at the supersampled size
    face[edge] = len(palette)
    palette.append(np.asarray(EDGE, float))
    lut = np.clip(np.rint(np.stack(palette)), 0, 255).astype(np.uint8)
    return Image.fromarray(lut[face]).reduce(s)


def reach(scene: Scene, camera: Camera, size: tuple[int, int]) -> np.ndarray:
    """An H x W mask of the pixels the turning plate and its cubes can cover from `camera` at any azimuth:
    the flat cylinder through the plate's corners and the upright one round the cubes (centred on the
    plate as `render` places them) up to the top of the highest, projected; the camera orbits their
    axis, so the projection is the same at every azimuth."""
    occupied = [v for v, _ in scene.cubes]
    xs, ys = [v[0] for v in occupied], [v[1] for v in occupied]
    cx, cy = (min(xs) + max(xs) + 1) / 2, (min(ys) + max(ys) + 1) / 2
    cube_radius = max(math.hypot(x + dx - cx, y + dy - cy) for x, y, _ in occupied for dx in (0, 1) for dy in (0, 1))
    top = max(v[2] for v in occupied) + 1.0
    right, up, _ = camera.axes()
    angles = np.linspace(0.0, 2 * math.pi, 180, endpoint=False)
    mask = Image.new("1", size, 0)
    draw = ImageDraw.Draw(mask)
    for radius, height in ((scene.floor_half * math.sqrt(2), 0.0), (cube_radius, top)):
        ring = np.stack([radius * np.cos(angles), radius * np.sin(angles), np.zeros_like(angles)], axis=1)
        outlines = []
        for z in (0.0, height):
            points = ring + (0.0, 0.0, z)
            px = size[0] / 2 + camera.scale * (points @ right)
            py = size[1] / 2 - camera.scale * (points @ up - camera.target_height * up[2])
            outlines.append(list(zip(px.tolist(), py.tolist())))
            draw.polygon(outlines[-1], fill=1)
        low, high = outlines
        for i in range(len(angles)):  # the cylinder's side, one strip per step round it
            j = (i + 1) % len(angles)
            draw.polygon([low[i], low[j], high[j], high[i]], fill=1)
    return np.asarray(mask, bool)
