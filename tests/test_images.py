import numpy as np
import pytest
from PIL import Image

from vmevalkit.errors import UserError
from vmevalkit.images import load_rgb, to_rgb


def test_modes_become_8bit_rgb(tmp_path):
    grey = Image.fromarray(np.full((4, 5), 100, np.uint8), "L")
    rgba = Image.new("RGBA", (5, 4), (255, 0, 0, 0))  # fully transparent red -> white background
    deep = Image.fromarray(np.full((4, 5), 65535, np.uint16))  # 16-bit white
    pal = grey.convert("P")
    for im, expect in [(grey, 100), (rgba, 255), (deep, 255), (pal, 100)]:
        path = tmp_path / f"{im.mode.replace(';', '_')}.png"
        im.save(path)
        out = load_rgb(path)
        assert out.mode == "RGB" and out.size == (5, 4)
        assert np.asarray(out)[0, 0].tolist() == [expect] * 3, im.mode


def test_half_transparent_is_composited_over_white():
    im = to_rgb(Image.new("RGBA", (2, 2), (0, 0, 0, 128)))
    assert 120 <= np.asarray(im)[0, 0, 0] <= 135


def test_corrupt_and_missing_files_name_the_file(tmp_path):
    bad = tmp_path / "first_frame.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(UserError, match="first_frame.png"):
        load_rgb(bad)
    with pytest.raises(UserError, match="not found"):
        load_rgb(tmp_path / "nope.png")


def test_an_image_over_pils_pixel_limit_is_a_user_error_naming_the_file(tmp_path, monkeypatch):
    path = tmp_path / "first_frame.png"
    Image.new("RGB", (100, 100)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # PIL refuses images over twice the limit
    with pytest.raises(UserError, match="first_frame.png: too large to open safely.*scale it down"):
        load_rgb(path)
