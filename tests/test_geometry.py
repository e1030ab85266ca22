import numpy as np
import pytest
from PIL import Image

from vmevalkit.geometry import Fit


def _picture(w, h):
    a = np.full((h, w, 3), 255, np.uint8)
    a[h // 4: h // 2, w // 5: w // 2] = (200, 30, 30)
    return Image.fromarray(a)


@pytest.mark.parametrize("policy", ["letterbox", "crop", "stretch"])
def test_fit_round_trip_keeps_the_picture(policy):
    im = _picture(300, 200)
    fit = Fit.plan(im, (512, 320), policy)
    out = fit.apply(im)
    assert out.size == (512, 320)
    back = fit.invert(out)
    assert back.size == im.size
    err = np.abs(np.asarray(back, float) - np.asarray(im, float)).mean()
    assert err < 3.0
    assert Fit.from_dict(fit.to_dict()) == fit


def test_letterbox_pads_with_border_colour_and_keeps_aspect():
    im = Image.new("RGB", (100, 100), (10, 20, 30))
    fit = Fit.plan(im, (512, 320), "letterbox")
    out = np.asarray(fit.apply(im))
    assert out[0, 0].tolist() == [10, 20, 30] and fit.sx == fit.sy


def test_unknown_policy():
    with pytest.raises(ValueError, match="letterbox"):
        Fit.plan(Image.new("RGB", (4, 4)), (8, 8), "zoom")
