"""Hosted models through the runner: `vmevalkit run` killed with SIGKILL while it polls, then rerun (one create,
a complete video); and a run through every error path, after which no key is in any file, log or output."""

import json
import logging
import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

from hosted_cases import BY_NAME, question, serve, tree_text
from hosted_fakes import VIDEO_FRAMES, VIDEO_SIZE, FakeKling, Script, make_mp4

from vmevalkit.questions import write_question
from vmevalkit.results import iter_items
from vmevalkit.runner import RunOptions, run_experiment
from vmevalkit.video import read_mp4

ROOT = Path(__file__).resolve().parent.parent
QUICK = {"poll_interval": "0.02", "retry_backoff": "0.01", "rate_limit": "1000"}


def test_sigkill_while_polling_then_rerun_creates_once_and_the_video_is_complete(tmp_path):
    write_question(question(0), tmp_path / "qs")
    keys = BY_NAME["kling"].keys
    fake = FakeKling(make_mp4(tmp_path), Script(outcome="never"), key=keys["KLING_ACCESS_KEY"],
                     secret=keys["KLING_SECRET_KEY"])
    with fake:
        env = {**os.environ, **keys, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1",
               "VMEVALKIT_KLING_BASE_URL": fake.base_url}
        argv = [sys.executable, "-m", "vmevalkit.cli", "run", "--models", "kling-v2-6", "--questions",
                str(tmp_path / "qs"), "--output-dir", str(tmp_path / "out"), "--experiment", "k", "--no-controls",
                "--no-score", "--no-progress"] + [a for k, v in QUICK.items() for a in ("--set", f"{k}={v}")]
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 300
        while fake.polls < 3:  # the job exists and the run is polling it
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        workdir = tmp_path / "out" / "k" / ".models" / "kling-v2-6"
        [record] = [json.loads(p.read_text()) for p in (workdir / "jobs").glob("*.json")]
        assert record["job_id"] == "job1" and record["status"] == "running" and fake.creates == 1
        assert not list(iter_items(tmp_path / "out" / "k"))  # nothing looks finished

        fake.script.outcome = "succeed"
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert fake.creates == 1 and fake.downloads == 1  # the rerun polled and downloaded the paid-for job
    [item] = list(iter_items(tmp_path / "out" / "k"))
    generation = item.metadata["generation"]
    assert item.ok and generation["job_id"] == "job1" and generation["resumed"] is True
    assert generation["returned_video"]["num_frames"] == VIDEO_FRAMES
    assert (generation["returned_video"]["width"], generation["returned_video"]["height"]) == VIDEO_SIZE
    assert read_mp4(item.folder / "video.mp4").num_frames == VIDEO_FRAMES


ERROR_PATHS = {  # provider -> a script that ends in one failure kind, with every error body echoing the key
    "gemini": Script(create_429=9, echo_key=True),  # 429 until the retries run out: provider_error
    "runway": Script(outcome="fail", echo_key=True),  # the job fails, its message repeating the key
    "fal": Script(outcome="refuse", echo_key=True),  # refused
    "openai": Script(outcome="never", echo_key=True),  # timeout
    "wavespeed": Script(malformed_polls=9, echo_key=True),  # broken JSON
    "luma-ray-2": Script(download_404=True, echo_key=True),  # 404 on download, after an upload with a password
}


def test_no_key_reaches_a_file_a_log_or_the_console_after_every_error_path(tmp_path, monkeypatch, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    for i in range(2):
        write_question(question(i), tmp_path / "qs")
    video = make_mp4(tmp_path)
    secrets = [v for name in [*ERROR_PATHS, "kling"] for v in BY_NAME[name].keys.values()]
    password = "upload-password-SECRET-42"
    with ExitStack() as stack:
        fakes = {name: stack.enter_context(serve(BY_NAME[name], video, script, monkeypatch))
                 for name, script in ERROR_PATHS.items()}
        kling = stack.enter_context(serve(BY_NAME["kling"], video, Script(echo_key=True), monkeypatch))
        monkeypatch.setenv("KLING_SECRET_KEY", "a-wrong-secret-SECRET-0000")  # a refused JWT: auth
        secrets.append("a-wrong-secret-SECRET-0000")
        luma_root = fakes["luma-ray-2"].root.replace("http://", f"http://uploader:{password}@")
        opts = RunOptions(models=[*[BY_NAME[n].model for n in ERROR_PATHS], "kling-v2-6"], questions=tmp_path / "qs",
                          output_dir=tmp_path / "out", experiment="leak", controls=False, score=False, progress=False,
                          overrides={**QUICK, "retries": "1", "poll_timeout": "0.1", "concurrency": "1",
                                     "uploader": f"put:{luma_root}/uploads/"})
        result = run_experiment(opts)
        assert len(kling.requests) == 1  # the key was refused once; the model sent nothing more
    out, err = capsys.readouterr()
    # every item fails (a runner may also hold back the second item of the model whose key was refused)
    assert all(t.ok == 0 and t.failed >= 1 for t in result.tallies), result.tallies
    messages = {i.model: i.metadata["error"]["message"] for i in iter_items(tmp_path / "out" / "leak")}
    for model, kind in [("veo-3.1-generate", "provider_error"), ("runway-gen4-turbo", "provider_error"),
                        ("seedance-v1-pro", "refused"), ("openai-sora-2", "timeout"), ("luma-ray-2", "provider_error"),
                        ("wavespeed-wan-2.2-i2v-480p", "provider_error"), ("kling-v2-6", "auth")]:
        assert messages[model].endswith(f"[{kind}]"), messages[model]
    assert fakes["luma-ray-2"].uploads  # the put: uploader ran (its URL held the password)
    assert "[REDACTED]" in messages["runway-gen4-turbo"]  # the echoed key reached the kit and was scrubbed
    everything = "\n".join([tree_text(tmp_path / "out"), caplog.text, out, err])
    assert "retrying" in caplog.text and "Bearer" in "".join(r["headers"].get("Authorization", "")
                                                             for r in fakes["runway"].requests)
    for secret in [*secrets, password]:
        assert secret not in everything, f"{secret} leaked"
