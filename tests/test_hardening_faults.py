"""A finished item is finished only if its video is sound (probe_mp4, checked by `score` on every run), and
faults end in one line: a full disk while writing, an output folder that cannot be written, a review client
that hangs up mid-request."""

import errno
import json
import os
import socket
import struct

import av
import numpy as np
import pytest
from experiment_tree import card_questions, oracle_frames, write_controls, write_item

from vmevalkit import atomic
from vmevalkit.cli import main
from vmevalkit.errors import StorageError, UserError
from vmevalkit.results import METADATA, VIDEO, load_item
from vmevalkit.review.server import ReviewServer
from vmevalkit.video import Video, probe_mp4, write_mp4

FRAMES = np.random.default_rng(0).integers(0, 256, (12, 48, 64, 3), dtype=np.uint8)


def _faststart_mp4(path):
    """An mp4 whose header (moov) comes before the frames, as streaming encoders write them: cut short, its
    header still opens and lists every frame."""
    with av.open(str(path), "w", format="mp4", options={"movflags": "faststart"}) as container:
        stream = container.add_stream("mpeg4", rate=8)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for frame in FRAMES:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, "rgb24")))
        container.mux(stream.encode())


def test_probe_reads_a_sound_video_from_its_header(tmp_path):
    write_mp4(Video(FRAMES, 8), tmp_path / "v.mp4")
    probe = probe_mp4(tmp_path / "v.mp4")
    assert (probe.width, probe.height, probe.frames, probe.fps) == (64, 48, 12, 8.0)
    _faststart_mp4(tmp_path / "fast.mp4")
    assert probe_mp4(tmp_path / "fast.mp4").frames == 12


@pytest.mark.parametrize("breakage, fragment", [
    (lambda data, mdat: b"", "empty video file"),
    (lambda data, mdat: data[: len(data) * 2 // 3], "truncated video: its header lists 12 frames"),
    (lambda data, mdat: data[:mdat + 8] + bytes(len(data) - mdat - 8), "not a readable video"),
    (lambda data, mdat: b"\0" * 4 + data[4:], "not a readable video"),
])
def test_probe_finds_empty_truncated_and_undecodable_videos(tmp_path, breakage, fragment):
    path = tmp_path / "fast.mp4"
    _faststart_mp4(path)
    data = path.read_bytes()
    path.write_bytes(breakage(data, data.index(b"mdat") - 4))
    with pytest.raises(UserError, match=fragment) as caught:
        probe_mp4(path)
    assert str(path) in str(caught.value)


def test_score_reports_a_broken_video_on_every_run_until_it_is_redone(tmp_path, capsys):
    exp = tmp_path / "outputs" / "exp"
    questions = card_questions(3)
    write_controls(exp, questions)
    truncated = exp / "static" / questions[0].key / VIDEO
    truncated.write_bytes(truncated.read_bytes()[:-200])
    recount = exp / "oracle" / questions[1].key
    metadata = json.loads((recount / METADATA).read_text())
    (recount / METADATA).write_text(json.dumps({**metadata, "video": {"num_frames": 99}}))
    command = ["score", "--experiment", "exp", "--output-dir", str(exp.parent), "--quiet"]
    for _ in range(2):
        assert main(command) == 1
        err = capsys.readouterr().err
        assert f"static {questions[0].key}: {truncated}: " in err and "rerun `vmevalkit run` to redo it" in err
        assert f"{recount / VIDEO}: holds 6 frames, its metadata.json says 99" in err
    with pytest.raises(UserError):
        load_item(truncated.parent).check_video()  # what the runner asks before it calls an item finished
    write_item(exp, "static", questions[0], [questions[0].first_frame] * 2)  # redone
    (recount / METADATA).write_text(json.dumps(metadata))
    assert main(command) == 0


def _disk_full(*args, **kwargs):
    raise av.error.err_check(-errno.ENOSPC)


class _FullDiskContainer:
    """A real PyAV output container whose muxer hits a full disk, as FFmpeg reports it (errno ENOSPC)."""

    def __init__(self, container):
        self._container = container

    def __getattr__(self, name):
        return getattr(self._container, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._container.__exit__(*exc)

    mux = staticmethod(_disk_full)


def test_a_full_disk_while_writing_a_video_says_so(tmp_path, monkeypatch):
    real_open = av.open
    monkeypatch.setattr(av, "open", lambda *a, **k: _FullDiskContainer(real_open(*a, **k)))
    with pytest.raises(StorageError, match="v.mp4: cannot write the video: no space left on device") as caught:
        write_mp4(Video(FRAMES, 8), tmp_path / "v.mp4")
    assert "codec" not in str(caught.value) and not list(tmp_path.iterdir())  # no partial file is left
    assert isinstance(caught.value, UserError) and caught.value.errno == errno.ENOSPC  # a runner can stop on it
    monkeypatch.undo()

    def full_fsync(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(atomic.os, "fsync", full_fsync)
    with pytest.raises(UserError, match="cannot write the video: no space left on device"):
        write_mp4(Video(FRAMES, 8), tmp_path / "v.mp4")


def test_tasks_generate_on_a_full_disk_ends_in_one_line_and_a_rerun_completes(tmp_path, monkeypatch, capsys):
    out = tmp_path / "q"
    command = ["tasks", "generate", "--tasks", "counting", "--n", "2", "--out", str(out)]
    real_fsync = atomic.os.fsync
    calls = []

    def fills_up(fd):  # the first files fit, then the disk is full
        calls.append(fd)
        if len(calls) > 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)
    monkeypatch.setattr(atomic.os, "fsync", fills_up)
    assert main(command) != 0
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "no space left on device" in err.lower()
    monkeypatch.setattr(atomic.os, "fsync", real_fsync)  # space freed
    assert main(command) == 0
    assert len(list(out.glob("counting_task/*/question_metadata.json"))) == 2


def test_tasks_generate_into_a_folder_it_cannot_write_is_one_line(tmp_path, monkeypatch, capsys):
    out = tmp_path / "read-only"
    out.mkdir()
    out.chmod(0o555)
    if os.geteuid() == 0:  # root writes into any folder: make the file system refuse as it would a user
        def refused(*args, **kwargs):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
        monkeypatch.setattr(atomic.tempfile, "mkstemp", refused)
    try:
        assert main(["tasks", "generate", "--tasks", "maze", "--n", "1", "--out", str(out)]) == 2
    finally:
        out.chmod(0o755)
    err = capsys.readouterr().err
    assert f"{out}: cannot write in the output folder (Permission denied); choose a writable --out" in err
    assert not list(out.iterdir())


def test_a_review_client_that_hangs_up_mid_request_costs_no_traceback(tmp_path, capsys):
    exp = tmp_path / "outputs" / "exp"
    write_item(exp, "oracle", card_questions(1)[0], oracle_frames(card_questions(1)[0], 2))
    server = ReviewServer(exp)
    server.httpd.daemon_threads = False  # so that stop() waits for the request's thread to finish
    server.start()
    host, port = server.httpd.server_address[:2]
    client = socket.create_connection((host, port))
    client.sendall(f"POST /api/verdict HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Review-Token: {server.token}\r\n"
                   "Content-Length: 500\r\n\r\n{\"id\": ".encode())
    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # hang up with a reset
    client.close()
    server.stop()
    err = capsys.readouterr().err
    assert "Traceback" not in err and "Exception" not in err
