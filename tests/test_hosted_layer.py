"""The shared layer of the hosted models: the registry entries, retries and Retry-After, threads against the
concurrency and rate limits, the ledger (written before the create, recovering a lost create reply), what a
call spent, the price table and the user's price file, the first frame's encoding, and the key's whereabouts."""

import json
import threading
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from hosted_cases import BY_NAME, build, generate, ledger_records, question, serve
from hosted_fakes import FakeKling, FakeProvider, FakeRunway, Script, make_mp4
from PIL import Image

from vmevalkit.errors import UserError
from vmevalkit.models import check_environment, get_spec, list_models, resolve_settings
from vmevalkit.models.api.errors import HostedError
from vmevalkit.models.api.http import retry_after
from vmevalkit.models.api.media import encode_frame
from vmevalkit.models.api.operational import OPERATIONAL_DEFAULTS
from vmevalkit.models.api.prices import BUILT_IN, ENV_PRICES, estimate
from vmevalkit.secrets import scrub

ISSUE_IDS = {  # issue 12, item 1, with the keys each needs
    "GEMINI_API_KEY": ["veo-2.0-generate", "veo-3.0-generate", "veo-3.0-fast-generate", "veo-3.1-generate",
                       "veo-3.1-fast-generate"],
    "KLING_ACCESS_KEY": ["kling-v2-6", "kling-v2-5-turbo", "kling-v2-1-master", "kling-v1-6"],
    "RUNWAYML_API_SECRET": ["runway-gen45", "runway-gen4-turbo"],
    "LUMAAI_API_KEY": ["luma-ray-2", "luma-ray-3.2"],
    "FAL_KEY": ["seedance-v1-pro", "seedance-v1-lite"],
    "WAVESPEED_API_KEY": ["wavespeed-wan-2.2-i2v-480p", "wavespeed-wan-2.2-i2v-720p", "sora-2-wavespeed",
                          "veo-3.1-wavespeed"],
    "OPENAI_API_KEY": ["openai-sora-2", "openai-sora-2-pro"],
}


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    return make_mp4(tmp_path_factory.mktemp("video"))


def test_every_issue_id_is_registered_with_its_key_variables_and_a_price(monkeypatch):
    for variable, ids in ISSUE_IDS.items():
        for model_id in ids:
            spec = get_spec(model_id)
            assert variable in spec.env_vars and spec.sees == ("image", "prompt") and spec.kind == "i2v"
            assert OPERATIONAL_DEFAULTS.items() <= dict(spec.defaults).items()
            assert spec.price(resolve_settings(spec)) > 0, model_id
            assert model_id in BUILT_IN
    for name in ("KLING_ACCESS_KEY", "KLING_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(UserError, match="KLING_ACCESS_KEY and KLING_SECRET_KEY"):
        check_environment("kling-v2-6")
    assert len({s.id for s in list_models()} & {i for ids in ISSUE_IDS.values() for i in ids}) == 21


def test_the_prefixes_make_specs_and_refuse_what_is_not_an_endpoint():
    fal = get_spec("fal:fal-ai/wan/v2.2-a14b/image-to-video")
    assert fal.id == "fal-fal-ai-wan-v2.2-a14b-image-to-video" and fal.env_vars == ("FAL_KEY",)
    assert fal.price(resolve_settings(fal)) is None and "input" in fal.defaults
    served = get_spec("openai-video:http://127.0.0.1:8000/v1#my-model")
    assert served.reference == "openai-video:http://127.0.0.1:8000/v1#my-model" and served.env_vars == ()
    for bad in ("fal:one-part", "openai-video:http://127.0.0.1:8000/v1", "openai-video:ftp://host#m"):
        with pytest.raises(UserError):
            get_spec(bad)
    with pytest.raises(UserError, match="duration must be one of 5, 10"):
        resolve_settings(get_spec("kling-v2-6"), {"duration": "7"})
    with pytest.raises(UserError, match="concurrency must be a whole number >= 1"):
        resolve_settings(get_spec("runway-gen45"), {"concurrency": "0"})


def test_vmevalkit_models_names_the_keys_the_prefixes_and_no_weights(capsys):
    from vmevalkit.cli import main

    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "needs the environment variable(s): KLING_ACCESS_KEY, KLING_SECRET_KEY" in out
    assert "fal:<a fal endpoint id" in out and "openai-video:<<base_url>#<model>" in out
    kling_row = next(line for line in out.splitlines() if line.startswith("kling-v2-6 "))
    assert "not needed" in kling_row and "hosted: Kling" in kling_row


def test_frame_sizes_follow_aspect_ratio_and_resolution():
    from vmevalkit.models.api.base import frame_size_for

    assert frame_size_for("16:9", "720p") == (1280, 720) and frame_size_for("9:16", "1080p") == (1080, 1920)
    assert frame_size_for("21:9", "720p") == (1680, 720) and frame_size_for("16:9", "4k") == (3840, 2160)


def test_retry_after_reads_seconds_milliseconds_and_http_dates():
    now = datetime(2026, 12, 1, 12, 0, 0, tzinfo=timezone.utc)
    later = (now + timedelta(seconds=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert retry_after({"retry-after": "7"}) == 7.0 and retry_after({"retry-after-ms": "250"}) == 0.25
    assert retry_after({"retry-after": later}, now=now) == 30.0 and retry_after({}) is None


class InFlightRunway(FakeRunway):
    """Counts the jobs between create and download, and the most at once."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.in_flight = self.max_in_flight = 0

    def handle(self, method, raw_path, headers, body):
        reply = super().handle(method, raw_path, headers, body)
        kind = self.route(method, raw_path.split("?")[0])[0]
        with self._lock:
            if kind == "create" and reply[0] == 200:
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
            elif kind == "download":
                self.in_flight -= 1
        return reply


def test_threads_keep_to_the_concurrency_and_the_rate_limit_and_share_a_job(video, tmp_path, monkeypatch):
    case = replace(BY_NAME["runway"], fake=InFlightRunway)
    with serve(case, video, Script(polls_before_done=3), monkeypatch) as fake:
        model = build(case, fake, tmp_path, concurrency=2, rate_limit=40.0, poll_interval=0.02)
        questions = [question(i) for i in range(5)] + [question(0)]  # the last asks what the first asks
        results, errors = {}, []

        def work(i, q):
            try:
                results[i] = generate(model, q)
            except Exception as e:  # noqa: BLE001
                errors.append(e)

        threads = [threading.Thread(target=work, args=(i, q)) for i, q in enumerate(questions)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert not errors and len(results) == 6
    assert fake.creates == 5 and fake.max_in_flight == 2  # one job for the two same questions; two at a time
    assert results[5].info["job_id"] == results[0].info["job_id"]
    times = sorted(r["at"] for r in fake.requests)
    assert times[-1] - times[0] >= 0.9 * (len(times) - 1) / 40  # at most 40 requests a second, from all threads


class WatchedRunway(FakeRunway):
    """Reads the ledger at the moment the create request arrives."""

    workdir = None
    seen: list[list[str]] = []  # noqa: RUF012 -- set by the test before the server starts

    def created(self, jid):
        self.seen.append([r["status"] for r in ledger_records(self.workdir)])
        return super().created(jid)


def test_the_pending_record_is_written_before_the_create_and_the_job_id_right_after(video, tmp_path, monkeypatch):
    case = replace(BY_NAME["runway"], fake=WatchedRunway)
    WatchedRunway.workdir, WatchedRunway.seen = tmp_path, []
    with serve(case, video, Script(), monkeypatch) as fake:
        generate(build(case, fake, tmp_path))
    assert fake.seen == [["creating"]]
    history = [h["status"] for h in ledger_records(tmp_path)[0]["history"]]
    assert history[:2] == ["creating", "submitted"]


class LosingFake:
    """Answers the first create with a reply cut short (the job is made; its id never reaches the kit)."""

    def handle(self, method, raw_path, headers, body):
        reply = super().handle(method, raw_path, headers, body)
        if self.route(method, raw_path.split("?")[0])[0] == "create" and self.creates == 1:
            return 200, {}, '{"code": 0, "data": {"task_'
        return reply


def test_a_lost_create_reply_is_recovered_by_kling_and_recorded_as_a_possible_duplicate_elsewhere(
        video, tmp_path, monkeypatch):
    for name, base in [("kling", FakeKling), ("runway", FakeRunway)]:
        case = replace(BY_NAME[name], fake=type(f"Losing{base.__name__}", (LosingFake, base), {}))
        with serve(case, video, Script(), monkeypatch) as fake:
            model = build(case, fake, tmp_path / name)
            with pytest.raises(HostedError) as caught:
                generate(model)
            assert caught.value.kind == "provider_error" and caught.value.ambiguous
            assert ledger_records(tmp_path / name)[0]["status"] == "creating"
            made = generate(model)
        if name == "kling":  # found again by its external_task_id: still one job
            assert fake.creates == 1 and made.info["job_id"] == "job1" and "possible_duplicate" not in made.info
        else:  # Runway cannot be asked: a second job, and the record says so
            assert fake.creates == 2 and made.info["possible_duplicate"] is True


def test_a_broken_ledger_record_stops_the_item_instead_of_paying_again(video, tmp_path, monkeypatch):
    case = BY_NAME["runway"]
    with serve(case, video, Script(), monkeypatch) as fake:
        model = build(case, fake, tmp_path)
        generate(model)
        [path] = (tmp_path / "jobs").glob("*.json")
        path.write_text('{"key": "trunc')
        with pytest.raises(UserError, match="repair or delete it"):
            generate(model)
        assert fake.creates == 1


def test_a_call_reports_what_it_spent_and_a_resumed_job_costs_nothing(video, tmp_path, monkeypatch):
    case = BY_NAME["runway"]  # runway-gen4-turbo: $0.05/s x 5 s = $0.25 a video
    with serve(case, video, Script(), monkeypatch) as fake:
        model = build(case, fake, tmp_path)
        first = generate(model)
        again = generate(build(case, fake, tmp_path))  # a rerun: the job is in the ledger
    assert first.info["cost_usd"] == first.info["cost_estimate_usd"] == pytest.approx(0.25)
    assert again.info["cost_usd"] == 0.0 and again.info["resumed"] is True and fake.creates == 1


def test_prices_by_setting_and_a_user_price_file(tmp_path, monkeypatch):
    assert estimate("kling-v2-6", {"mode": "pro", "duration": 10}) == 0.70
    assert estimate("veo-3.1-generate", {"duration": 8}) == pytest.approx(3.2)
    assert estimate("luma-ray-3.2", {"resolution": "720p", "duration": 10}) == 0.90
    assert estimate("kling-v2-6", {"mode": "turbo", "duration": 5}) is None  # no rate for it: unknown, not 0
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"kling-v2-6": {"usd": 0.5, "unit": "clip"},
                                  "fal-my-endpoint": {"usd": {"720p": 0.1}, "by": ["resolution"]}}))
    monkeypatch.setenv(ENV_PRICES, str(prices))
    assert estimate("kling-v2-6", {"mode": "pro", "duration": 10}) == 0.5
    assert estimate("fal-my-endpoint", {"resolution": "720p", "duration": 4}) == pytest.approx(0.4)
    prices.write_text(json.dumps({"kling-v2-6": {"usd": -1}}))
    with pytest.raises(UserError, match="prices.json: entry 'kling-v2-6'.*non-negative"):
        estimate("kling-v2-6", {})
    monkeypatch.setenv(ENV_PRICES, str(tmp_path / "missing.json"))
    with pytest.raises(UserError, match="VMEVALKIT_PRICES"):
        estimate("kling-v2-6", {})


def test_a_frame_over_the_limit_goes_as_jpeg_and_one_that_cannot_fit_is_refused():
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 300, 3), dtype=np.uint8))
    frame = encode_frame(noise, 120_000)
    assert frame.mime == "image/jpeg" and len(frame.data) <= 120_000 and frame.size == (300, 200)
    assert encode_frame(Image.new("RGB", (300, 200), "white"), 120_000).mime == "image/png"
    with pytest.raises(HostedError, match="over the provider's limit") as caught:
        encode_frame(noise, 2_000)
    assert caught.value.kind == "invalid_request"


class CDNRunway(FakeRunway):
    """Serves the video from a second server (a CDN on another host)."""

    cdn_server: FakeProvider | None = None

    def cdn(self, jid):
        return f"{self.cdn_server.root}/cdn/{jid}.mp4"


def test_the_key_goes_only_to_the_providers_base_url_and_the_jwt_is_scrubbed(video, tmp_path, monkeypatch):
    case = BY_NAME["runway"]
    with FakeRunway(video, Script(), key="unused") as cdn:
        fake = CDNRunway(video, Script(), key=case.keys["RUNWAYML_API_SECRET"])
        fake.cdn_server = cdn
        monkeypatch.setenv("RUNWAYML_API_SECRET", case.keys["RUNWAYML_API_SECRET"])
        with fake:
            monkeypatch.setenv("VMEVALKIT_RUNWAY_BASE_URL", fake.base_url)
            generate(build(case, fake, tmp_path))
        [download] = cdn.requests
    assert download["path"] == "/cdn/job1.mp4" and "Authorization" not in download["headers"]
    kling_case = BY_NAME["kling"]
    with serve(kling_case, video, Script(), monkeypatch) as fake:
        model = build(kling_case, fake, tmp_path / "kling")
        token = model.token()
        assert token.count(".") == 2 and token not in scrub(f"Authorization was Bearer {token} and {token}")
        assert model.token() == token  # reused while it has more than five minutes left
