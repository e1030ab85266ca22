"""The voxel renderer: z-buffered occlusion, camera geometry, determinism."""

import math

import numpy as np

from vmevalkit.tasks.voxels import BACKGROUND, Camera, Scene, render

RED, BLUE = (220, 30, 30), (30, 60, 220)


def _share(image, colour_test) -> float:
    a = np.asarray(image).astype(int)
    return float(colour_test(a[..., 0], a[..., 1], a[..., 2]).mean())


def bluish(r, g, b):
    return (b > r + 60) & (b > g + 60)


def reddish(r, g, b):
    return (r > g + 60) & (r > b + 60)


def test_the_nearer_cube_hides_the_farther_one():
    # two cubes on the x axis, seen edge-on along x: the one nearer the camera covers the other
    scene = Scene((((1, 0, 0), RED), ((-2, 0, 0), BLUE)))
    from_plus_x = render(scene, Camera(0, elevation=0, scale=40), (160, 160))
    from_minus_x = render(scene, Camera(180, elevation=0, scale=40), (160, 160))
    assert _share(from_plus_x, reddish) > 0.02 and _share(from_plus_x, bluish) == 0
    assert _share(from_minus_x, bluish) > 0.02 and _share(from_minus_x, reddish) == 0


def test_a_side_view_shows_both_cubes_and_the_background_stays_clean():
    scene = Scene((((1, 0, 0), RED), ((-2, 0, 0), BLUE)))
    side = render(scene, Camera(90, elevation=20, scale=30), (200, 160))
    assert _share(side, reddish) > 0.01 and _share(side, bluish) > 0.01
    assert np.asarray(side)[0, 0].tolist() == list(BACKGROUND)


def test_camera_axes_are_orthonormal_and_right_handed():
    for az, el in [(0, 30), (37, 10), (200, 45)]:
        right, up, toward = Camera(az, el).axes()
        m = np.stack([right, up, toward])
        assert np.allclose(m @ m.T, np.eye(3))
        assert np.allclose(np.cross(right, up), toward)
        assert up[2] > 0  # the world's up is up on screen


def test_orbiting_the_camera_equals_turning_the_table_the_other_way():
    """The rotation prompt's promise: camera azimuth + t shows the table turned t degrees clockwise
    (seen from above)."""
    for t in (45, 90, -90, 180):
        p = np.array([1.3, -0.4, 0.7])
        a = math.radians(-t)  # clockwise by t is counter-clockwise by -t
        cos, sin = math.cos(a), math.sin(a)
        turned = np.array([p[0] * cos - p[1] * sin, p[0] * sin + p[1] * cos, p[2]])
        r0, u0, _ = Camera(25).axes()
        r1, u1, _ = Camera(25 + t).axes()
        assert np.allclose([turned @ r0, turned @ u0], [p @ r1, p @ u1])


def test_render_is_deterministic_and_mirroring_changes_a_chiral_sculpture():
    cubes = (((0, 0, 0), RED), ((1, 0, 0), RED), ((1, 1, 0), BLUE), ((1, 1, 1), BLUE))
    scene = Scene(cubes)
    a, b = render(scene, Camera(30)), render(scene, Camera(30))
    assert a.tobytes() == b.tobytes()
    assert scene.mirrored().mirrored() == scene
    mirrored = np.asarray(render(scene.mirrored(), Camera(30)), float)
    assert np.abs(mirrored - np.asarray(a, float)).mean() > 2
