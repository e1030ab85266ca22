"""Contract tests of every hosted provider against its local fake server (tests/hosted_fakes.py): the documented
request shape, 429 then success with Retry-After honoured, a failing job, a content refusal, a job that never
finishes, malformed JSON, a 404 on download, a refused key; and that reruns never pay twice."""

import json

import pytest
from hosted_cases import CASES, build, generate, ledger_records, question, serve
from hosted_fakes import VIDEO_FPS, VIDEO_FRAMES, VIDEO_SIZE, Script, make_mp4

from vmevalkit.models.api.errors import HostedError

pytestmark = pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    return make_mp4(tmp_path_factory.mktemp("video"))


def _fails(model, kind, q=None):
    with pytest.raises(HostedError) as caught:
        generate(model, q)
    assert caught.value.kind == kind, str(caught.value)
    return caught.value


def test_429_then_success_honours_retry_after_and_sends_the_documented_request(case, video, tmp_path, monkeypatch):
    wait = 1 if case.name == "kling" else 0.3  # whole seconds as servers send; fractions keep the others quick
    with serve(case, video, Script(create_429=1, retry_after=str(wait), polls_before_done=2), monkeypatch) as fake:
        model = build(case, fake, tmp_path)  # retry_backoff is 0.01 s: only Retry-After explains a longer wait
        made = generate(model)
        creates = [r for r in fake.requests if fake.route(r["method"], r["path"])[0] == "create"]
        assert len(creates) == 2 and creates[1]["at"] - creates[0]["at"] >= wait
        case.check(fake, model)
    assert (made.num_frames, made.size, made.fps) == (VIDEO_FRAMES, VIDEO_SIZE, VIDEO_FPS)
    info = made.info
    assert info["returned_video"] == {**info["returned_video"], "fps": VIDEO_FPS, "num_frames": VIDEO_FRAMES,
                                      "width": VIDEO_SIZE[0], "height": VIDEO_SIZE[1], "bytes": len(video)}
    assert info["job_id"].endswith("job1") and info["resumed"] is False and info["provider"] == model.provider
    statuses = [h["status"] for h in info["status_history"]]
    assert statuses[:2] == ["creating", "submitted"] and "running" in statuses and statuses[-1] == "downloaded"
    assert (info["first_frame"]["width"], info["first_frame"]["height"]) == (model.resolution or (64, 48))
    [record] = ledger_records(tmp_path)
    assert record["status"] == "downloaded" and record["job_id"] == info["job_id"]
    assert record["request"]["first_frame"] == info["first_frame"] and len(json.dumps(record)) < 4000  # no bytes


def test_a_failing_job_is_a_provider_error_and_a_rerun_makes_a_new_one(case, video, tmp_path, monkeypatch):
    with serve(case, video, Script(outcome="fail"), monkeypatch) as fake:
        model = build(case, fake, tmp_path)
        error = _fails(model, "provider_error")
        assert "the generation crashed" in str(error) and error.retryable
        assert ledger_records(tmp_path)[0]["status"] == "failed"
        fake.script.outcome = "succeed"
        made = generate(model)
        assert fake.creates == 2 and made.info["job_id"].endswith("job2") and made.info["earlier_attempts"] == 1


def test_a_refusal_is_recorded_and_never_asked_again(case, video, tmp_path, monkeypatch):
    with serve(case, video, Script(outcome="refuse"), monkeypatch) as fake:
        model = build(case, fake, tmp_path)
        _fails(model, "refused")
        seen = len(fake.requests)
        again = _fails(model, "refused")
        assert len(fake.requests) == seen and "refused before" in str(again)  # not paid for twice
        assert ledger_records(tmp_path)[0]["status"] == "refused"


def test_a_job_that_never_finishes_times_out_and_a_rerun_polls_the_same_job(case, video, tmp_path, monkeypatch):
    with serve(case, video, Script(outcome="never"), monkeypatch) as fake:
        error = _fails(build(case, fake, tmp_path, poll_timeout=0.15), "timeout")
        assert "poll_timeout" in str(error) and fake.polls >= 1
        fake.script.outcome = "succeed"
        made = generate(build(case, fake, tmp_path))  # a new process would build the model anew
        assert fake.creates == 1 and made.info["resumed"] is True and made.num_frames == VIDEO_FRAMES


def test_malformed_json_is_retried_then_a_provider_error_and_a_rerun_resumes(case, video, tmp_path, monkeypatch):
    with serve(case, video, Script(malformed_polls=3), monkeypatch) as fake:
        model = build(case, fake, tmp_path, retries=1)
        error = _fails(model, "provider_error")
        assert "not JSON" in str(error) and fake.polls == 2  # one resend, then give up
        made = generate(model)
        assert fake.creates == 1 and made.info["resumed"] is True


def test_a_404_on_download_is_a_provider_error_and_a_rerun_downloads_without_a_new_job(case, video, tmp_path,
                                                                                       monkeypatch):
    with serve(case, video, Script(download_404=True), monkeypatch) as fake:
        model = build(case, fake, tmp_path)
        error = _fails(model, "provider_error")
        assert "404" in str(error)
        fake.script.download_404 = False
        made = generate(model)
        assert fake.creates == 1 and fake.downloads == 2 and made.num_frames == VIDEO_FRAMES
        made_again = generate(model)  # finished: decoded from the workdir, no request at all
        assert fake.downloads == 2 and made_again.info["resumed"] is True


def test_a_refused_key_stops_the_model_before_any_further_request(case, video, tmp_path, monkeypatch):
    if not case.keys:
        pytest.skip("this server takes no key")
    with serve(case, video, Script(), monkeypatch) as fake:
        for name in case.keys:
            monkeypatch.setenv(name, f"wrong-{name}-000000")
        model = build(case, fake, tmp_path)
        _fails(model, "auth")
        seen = len(fake.requests)
        error = _fails(model, "auth", question(1))
        assert len(fake.requests) == seen and "no request sent" in str(error)
