"""The Ray executor on a local Ray cluster started here (CPU only, loopback): the same results as the local
executor, an actor killed mid-item, and experiments finished across executors."""

import json
import os

import numpy as np
import pytest

import models_for_tests
from vmevalkit import models
from vmevalkit.cli import main
from vmevalkit.results import iter_items, read_item
from vmevalkit.runner.executors.ray import start_local
from vmevalkit.video import read_mp4
from test_runner_scaleout import calls, make_questions

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A two-CPU local cluster for this module; test models are shipped to the workers by value."""
    root = tmp_path_factory.mktemp("ray")
    saved = {k: os.environ.get(k) for k in ("VMEVALKIT_TEST_CALLS", "VMEVALKIT_TEST_CRASH_ONCE", "OMP_NUM_THREADS")}
    os.environ.update(VMEVALKIT_TEST_CALLS=str(root / "calls.txt"), VMEVALKIT_TEST_CRASH_ONCE=str(root / "crashed"),
                      OMP_NUM_THREADS="1")
    ray.cloudpickle.register_pickle_by_value(models_for_tests)
    start_local(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield root
    ray.shutdown()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def test_the_cluster_the_kit_starts_listens_on_loopback_only(cluster):
    import psutil

    assert {node["NodeManagerAddress"] for node in ray.nodes()} == {"127.0.0.1"}
    ray_processes = [p for p in psutil.process_iter(["name", "cmdline"])
                     if "ray" in " ".join(p.info["cmdline"] or [p.info["name"] or ""])]
    listening = set()
    for process in ray_processes:
        try:
            listening |= {c.laddr.ip for c in process.net_connections("inet") if c.status == psutil.CONN_LISTEN}
        except (psutil.AccessDenied, psutil.NoSuchProcess):
            continue
    assert listening and listening <= {"127.0.0.1", "::ffff:127.0.0.1", "::1"}, listening


@pytest.fixture
def test_models(monkeypatch):
    monkeypatch.setattr(models, "_REGISTRY", dict(models._REGISTRY))
    models_for_tests.register()


def run(out, qs, *extra):
    return main(["run", "--questions", str(qs), "--output-dir", str(out), "--experiment", "e", "--no-progress",
                 "--no-score", "--threads", "1", *extra])


def test_ray_and_local_make_the_same_items_and_videos(cluster, tmp_path):
    qs = make_questions(tmp_path / "qs", 2)
    assert run(tmp_path / "local", qs) == 0
    assert run(tmp_path / "ray", qs, "--ray", "auto", "--set", "cpus=0.5") == 0
    local = {(i.model, i.question_key): i for i in iter_items(tmp_path / "local" / "e")}
    on_ray = {(i.model, i.question_key): i for i in iter_items(tmp_path / "ray" / "e")}
    assert set(local) == set(on_ray) and len(local) == 6
    for key, item in local.items():
        assert on_ray[key].metadata["result_key"] == item.metadata["result_key"]
        assert np.array_equal(read_mp4(on_ray[key].video_path).frames, read_mp4(item.video_path).frames)
    run_record = json.loads((tmp_path / "ray" / "e" / "experiment.json").read_text())["runs"][-1]
    assert run_record["executor"]["kind"] == "ray"
    tiny = next(t for t in run_record["summary"] if t["model"] == "videocrafter-tiny")
    assert tiny["ok"] == 2 and tiny["load_s"] and tiny["items_per_hour"] > 0


def test_an_actor_killed_mid_item_is_replaced_and_every_item_made_once(cluster, tmp_path, test_models, capsys):
    qs = make_questions(tmp_path / "qs", 4)
    assert run(tmp_path / "out", qs, "--ray", "auto", "--models", "crashing", "--no-controls",
               "--set", "cpus=0.5", "--set", "actors=2") == 0
    assert (cluster / "crashed").exists()  # one actor did die mid-item
    assert "a Ray actor died" in capsys.readouterr().err
    made = {k: v for k, v in calls(cluster / "calls.txt").items() if k.startswith("crashing")}
    assert len(made) == 4 and set(made.values()) == {1}
    assert all(read_item(tmp_path / "out" / "e" / "crashing" / "toy_task" / f"q{i}").ok for i in range(4))


def test_an_experiment_half_done_locally_is_finished_on_ray_and_back(cluster, tmp_path, test_models):
    qs = make_questions(tmp_path / "qs", 4)
    assert run(tmp_path / "out", qs, "--models", "counting", "--no-controls", "--limit", "2") == 0
    exp = tmp_path / "out" / "e"
    before = {i.folder.name: i.metadata["created"] for i in iter_items(exp)}
    assert run(tmp_path / "out", qs, "--models", "counting", "--no-controls", "--ray", "auto",
               "--set", "cpus=0.5", "--samples", "2") == 0
    after = {i.folder.name: i for i in iter_items(exp)}
    assert sorted(after) == sorted(f"q{i}{s}" for i in range(4) for s in ("", "@1"))
    assert all(after[name].metadata["created"] == created for name, created in before.items())  # not redone
    assert run(tmp_path / "out", qs, "--models", "counting", "--no-controls", "--samples", "3") == 0
    assert len(list(iter_items(exp))) == 12
