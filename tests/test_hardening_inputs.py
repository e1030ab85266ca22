"""Every input is bounded before it is decoded or generated (vmevalkit.limits), and counting flags say which
flag is wrong: images, prompts, videos, the controls' frames, --n, --resamples, --embed-limit-mb, --port."""

import resource
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from experiment_tree import card_dataset, card_questions, write_controls
from PIL import Image

from vmevalkit import limits
from vmevalkit.cli import main
from vmevalkit.errors import UserError
from vmevalkit.images import load_rgb
from vmevalkit.models.baselines import OracleBaseline, StaticBaseline
from vmevalkit.questions import GROUND_TRUTH, scan_questions, write_question
from vmevalkit.video import Video, read_mp4, write_mp4

ROOT = Path(__file__).resolve().parent.parent


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int) -> bytes:
    """A PNG signature and IHDR claiming `width` x `height` RGB, with one tiny IDAT: a few dozen bytes that
    would need width * height * 3 bytes to decode."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"\0" * 16)) + _chunk(b"IEND", b"")


@pytest.fixture
def dataset(tmp_path):
    return card_dataset(tmp_path / "set")


def test_a_huge_image_is_refused_from_its_header_naming_file_limit_and_fix(tmp_path):
    path = tmp_path / "first_frame.png"
    path.write_bytes(png_claiming(9000, 9000))  # 81 M pixels: under Pillow's own limit, over ours
    with pytest.raises(UserError) as caught:
        load_rgb(path)
    message = str(caught.value)
    assert str(path) in message and "(9000x9000)" in message and "81,000,000 pixels" in message
    assert "limit of 67,108,864" in message and "VMEVALKIT_MAX_IMAGE_PIXELS" in message
    assert "VMEVALKIT_DOWNSCALE_IMAGES=1" in message


def test_the_image_limits_can_be_raised_and_a_bad_setting_names_the_variable(tmp_path, monkeypatch):
    path = tmp_path / "a.png"
    Image.new("RGB", (200, 100), (9, 9, 9)).save(path)
    monkeypatch.setenv("VMEVALKIT_MAX_IMAGE_PIXELS", "19999")
    with pytest.raises(UserError, match=r"a.png \(200x100\): 20,000 pixels is over the limit of 19,999"):
        load_rgb(path)
    monkeypatch.setenv("VMEVALKIT_MAX_IMAGE_PIXELS", "20_000")
    assert load_rgb(path).size == (200, 100)
    monkeypatch.setenv("VMEVALKIT_MAX_IMAGE_BYTES", str(path.stat().st_size - 1))
    with pytest.raises(UserError, match="bytes is over the limit.*VMEVALKIT_MAX_IMAGE_BYTES"):
        load_rgb(path)
    for bad in ("many", "0", "-5"):
        monkeypatch.setenv("VMEVALKIT_MAX_IMAGE_BYTES", bad)
        with pytest.raises(UserError, match="VMEVALKIT_MAX_IMAGE_BYTES=.* must be a positive whole number"):
            load_rgb(path)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_an_oversized_image_is_shrunk_to_fit_when_the_user_opts_in(tmp_path, monkeypatch, fmt):
    path = tmp_path / f"a.{fmt.lower()}"
    image = Image.new("RGB", (400, 200), (200, 30, 30))
    image.paste((30, 30, 200), (200, 0, 400, 200))  # left red, right blue
    image.save(path, format=fmt)
    monkeypatch.setenv("VMEVALKIT_MAX_IMAGE_PIXELS", "5000")
    with pytest.raises(UserError):
        load_rgb(path)
    monkeypatch.setenv("VMEVALKIT_DOWNSCALE_IMAGES", "1")
    small = load_rgb(path)
    assert small.width * small.height <= 5000 and small.mode == "RGB"
    assert abs(small.width / small.height - 2) < 0.1  # the aspect ratio is kept
    pixels = np.asarray(small).astype(int)
    assert pixels[:, 0, 0].mean() > 150 and pixels[:, -1, 2].mean() > 150  # and the content


def test_a_bad_question_file_over_a_limit_is_a_problem_and_the_batch_goes_on(dataset, monkeypatch):
    folders = sorted(dataset.glob("*/*"))
    (folders[0] / "first_frame.png").write_bytes(png_claiming(9000, 9000))
    (folders[1] / "prompt.txt").write_bytes(b"go " * 400)
    monkeypatch.setenv("VMEVALKIT_MAX_TEXT_BYTES", "1000")
    questions, problems = scan_questions(dataset)
    assert [q.id for q in questions] == [folders[2].name]
    messages = sorted(p.message for p in problems)
    assert "first_frame.png (9000x9000)" in messages[0] + messages[1]
    assert any("prompt.txt: 1,200 bytes is over the limit of 1,000" in m and "VMEVALKIT_MAX_TEXT_BYTES" in m
               for m in messages)


def test_a_video_over_the_pixel_budget_is_refused_from_its_header(tmp_path, monkeypatch):
    path = tmp_path / GROUND_TRUTH
    write_mp4(Video(np.zeros((16, 64, 96, 3), np.uint8), 8), path)
    monkeypatch.setenv("VMEVALKIT_MAX_VIDEO_PIXELS", str(64 * 96 * 10))
    with pytest.raises(UserError) as caught:
        read_mp4(path)
    # the header's 16 frames are named: it was refused before the decoding reached the 11th frame
    assert "(96x64, 16 frames): 98,304 pixels is over the limit of 61,440" in str(caught.value)
    assert "VMEVALKIT_MAX_VIDEO_PIXELS" in str(caught.value)
    monkeypatch.setenv("VMEVALKIT_MAX_VIDEO_BYTES", "100")
    with pytest.raises(UserError, match="bytes is over the limit of 100.*VMEVALKIT_MAX_VIDEO_BYTES"):
        read_mp4(path)


def test_the_controls_frames_are_bounded_before_any_frame_is_made(tmp_path, dataset, monkeypatch):
    with pytest.raises(UserError, match=r"static: --set frames=100000: 100,000 frames is over the limit of 1,024"):
        StaticBaseline(frames=100_000)
    done = main(["run", "--questions", str(dataset), "--models", "static", "--no-controls", "--set",
                 "frames=100000", "--output-dir", str(tmp_path / "out"), "--no-progress"])
    assert done == 2 and not list((tmp_path / "out").glob("*/static"))
    question = scan_questions(dataset)[0][0]  # 200 x 100
    monkeypatch.setenv("VMEVALKIT_MAX_VIDEO_PIXELS", str(200 * 100 * 500))
    for control in (StaticBaseline(frames=1000), OracleBaseline(frames=1000)):
        with pytest.raises(UserError, match=f"{control.id}: 1000 frames of 200x100: 20,000,000 pixels is over"):
            control.generate(question, question.first_frame, seed=0)
    assert StaticBaseline(frames=500).generate(question, question.first_frame, seed=0).num_frames == 500
    with pytest.raises(UserError, match="fps > 0"):
        StaticBaseline(fps=float("inf"))


def _bounded_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))


def _cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """The CLI in a child process held to 4 GiB, so that a missing bound fails this test, not the machine."""
    return subprocess.run([sys.executable, "-m", "vmevalkit", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, preexec_fn=_bounded_memory)


def test_n_is_bounded_and_names_the_flag(tmp_path):
    out = tmp_path / "q"
    done = _cli("tasks", "generate", "--tasks", "maze", "--n", "1000000000", "--out", str(out))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "--n: 1,000,000,000 questions is over the limit of 10,000" in done.stderr
    assert "VMEVALKIT_MAX_N" in done.stderr and not out.exists()
    for bad in ("0", "-1"):
        assert main(["tasks", "generate", "--tasks", "maze", "--n", bad, "--out", str(out)]) == 2
    assert not out.exists()
    run = _cli("run", "--tasks", "maze", "--n", "1000000000", "--limit", "1", "--models", "static",
               "--no-controls", "--output-dir", str(tmp_path / "runs"), "--no-progress")
    assert run.returncode == 2 and "--n: 1,000,000,000 questions is over the limit" in run.stderr
    assert not list((tmp_path / "runs").glob("*/questions/*"))


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    """One scored experiment, shared: the commands below refuse their flags before touching it."""
    exp = tmp_path_factory.mktemp("refusals") / "outputs" / "exp"
    write_controls(exp, card_questions(1))
    assert main(["score", "--experiment", "exp", "--output-dir", str(exp.parent), "--quiet"]) == 0
    return exp


def test_resamples_are_bounded(experiment):
    done = _cli("report", "--experiment", "exp", "--output-dir", str(experiment.parent), "--resamples", "1000000000")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "--resamples: 1,000,000,000 resamples is over the limit of 100,000" in done.stderr
    assert "VMEVALKIT_MAX_RESAMPLES" in done.stderr and not (experiment / "report").exists()


@pytest.mark.parametrize("flags, fragment", [
    (["--resamples", "99"], "--resamples must be at least 100"),
    (["--embed-limit-mb", "-1"], "--embed-limit-mb must be a size in MB, 0 or more"),
    (["--embed-limit-mb", "nan"], "--embed-limit-mb must be a size in MB, 0 or more"),
])
def test_report_flags_out_of_range_are_refused(experiment, capsys, flags, fragment):
    capsys.readouterr()
    assert main(["report", "--experiment", "exp", "--output-dir", str(experiment.parent), *flags]) == 2
    assert fragment in capsys.readouterr().err and not (experiment / "report").exists()


@pytest.mark.parametrize("flags, fragment", [
    (["--workers", "100000"], "--workers: 100,000 workers is over the limit of 64"),
    (["--workers", "0"], "--workers must be at least 1"),
    (["--scorer", "vlm", "--vlm-base-url", "http://127.0.0.1:9/v1", "--vlm-model", "m", "--vlm-timeout", "-1"],
     "--vlm-timeout must be a number of seconds above 0"),
])
def test_score_flags_out_of_range_are_refused(experiment, capsys, flags, fragment):
    capsys.readouterr()
    assert main(["score", "--experiment", "exp", "--output-dir", str(experiment.parent), *flags]) == 2
    assert fragment in capsys.readouterr().err


def test_a_bad_limit_variable_stops_the_cli_at_its_start(monkeypatch, capsys):
    monkeypatch.setenv("VMEVALKIT_MAX_IMAGE_PIXELS", "1e9")
    assert main(["tasks", "list"]) == 2
    assert "VMEVALKIT_MAX_IMAGE_PIXELS='1e9' must be a positive whole number of pixels" in capsys.readouterr().err


def test_a_count_limit_can_be_raised(monkeypatch):
    with pytest.raises(UserError, match="VMEVALKIT_MAX_RESAMPLES=150000"):
        limits.check_count("--resamples", 150_000, limits.RESAMPLES, minimum=100)
    monkeypatch.setenv(limits.RESAMPLES.env, "200000")
    assert limits.check_count("--resamples", 150_000, limits.RESAMPLES, minimum=100) == 150_000


def test_review_port_out_of_range_is_one_line(experiment, capsys):
    assert main(["review", "--experiment", "exp", "--output-dir", str(experiment.parent), "--port", "99999"]) == 2
    assert "--port must be from 0 to 65535" in capsys.readouterr().err


def test_downscaled_questions_keep_their_folder_readable(dataset, monkeypatch):
    """The opt-in applies to every image of a question, so a dataset of large frames reads end to end."""
    folder = sorted(dataset.glob("*/*"))[0]
    shutil.copyfile(folder / "first_frame.png", folder / "final_frame.png")
    monkeypatch.setenv("VMEVALKIT_MAX_IMAGE_PIXELS", "5000")
    monkeypatch.setenv("VMEVALKIT_DOWNSCALE_IMAGES", "yes")
    questions, problems = scan_questions(dataset)
    assert not problems and all(q.first_frame.width * q.first_frame.height <= 5000 for q in questions)
