"""Nothing is read from outside the dataset or the experiment: symlinks (and `..` in them) that lead out
of the --questions root or out of an experiment are refused with the link and its target; experiment names
follow one rule in score, report and review."""

import json
import os
from pathlib import Path

import pytest
from experiment_tree import card_dataset, card_questions, oracle_frames, static_frames, write_controls, write_item

from vmevalkit.atomic import append_line
from vmevalkit.cli import main
from vmevalkit.errors import QuestionError, UserError
from vmevalkit.questions import (
    FINAL_FRAME,
    FIRST_FRAME,
    GROUND_TRUTH,
    METADATA,
    PROMPT,
    read_question,
    scan_questions,
    write_question,
)
from vmevalkit.results import SCORES, check_experiment_name, iter_items
from vmevalkit.review.server import ReviewServer

SECRET = "the-private-contents-of-another-file-4711"


@pytest.fixture
def outside(tmp_path):
    """Files outside every dataset and experiment: a secret text, and a valid question folder to lure a reader."""
    folder = tmp_path / "elsewhere"
    question = card_questions(1)[0]
    source = write_question(question, folder / "q")
    (folder / "secret.txt").write_text(SECRET)
    return folder, source


@pytest.fixture
def dataset(tmp_path):
    return card_dataset(tmp_path / "set")


def _link(path: Path, target: Path | str) -> None:
    if path.exists() or path.is_symlink():
        if path.is_dir() and not path.is_symlink():
            import shutil
            shutil.rmtree(path)
        else:
            path.unlink()
    path.symlink_to(target)


@pytest.mark.parametrize("name", [PROMPT, FIRST_FRAME, FINAL_FRAME, METADATA, GROUND_TRUTH])
def test_a_question_file_linked_outside_the_dataset_is_refused_naming_link_and_target(dataset, outside, name):
    folder = sorted(dataset.glob("*/*"))[1]
    elsewhere, source = outside
    target = elsewhere / "secret.txt" if name == PROMPT else source / (name if name != GROUND_TRUTH else FIRST_FRAME)
    _link(folder / name, target)
    questions, problems = scan_questions(dataset)
    assert len(questions) == 2 and [p.path for p in problems] == [folder]
    assert f"{folder / name} -> {target.resolve()}: outside {dataset}" in problems[0].message
    assert all(SECRET not in q.prompt for q in questions)


def test_dot_dot_in_a_relative_link_and_linked_folders_are_refused_too(dataset, outside, tmp_path):
    elsewhere, source = outside
    folders = sorted(dataset.glob("*/*"))
    _link(folders[0] / PROMPT, Path("..", "..", "..", "elsewhere", "secret.txt"))  # a relative link up and out
    _link(folders[1], source)  # the question folder itself
    (dataset / "linked_task").symlink_to(elsewhere)  # a whole domain folder
    questions, problems = scan_questions(dataset)
    assert [q.id for q in questions] == [folders[2].name]
    messages = {p.path.name: p.message for p in problems}
    assert f"-> {(elsewhere / 'secret.txt').resolve()}" in messages[folders[0].name]
    assert f"{folders[1]} -> {source.resolve()}: outside" in messages[folders[1].name]
    assert f"{dataset / 'linked_task'} -> {elsewhere.resolve()}: outside" in messages["linked_task"]
    # a folder read on its own is its own root: nothing outside it is read either
    with pytest.raises(QuestionError, match="prompt.txt -> .*secret.txt: outside"):
        read_question(folders[0])


def test_links_that_stay_inside_the_dataset_are_fine(dataset):
    folders = sorted(dataset.glob("*/*"))
    _link(folders[1] / FIRST_FRAME, Path("..", folders[0].name, FIRST_FRAME))
    _link(folders[2] / PROMPT, folders[0] / PROMPT)
    questions, problems = scan_questions(dataset)
    assert not problems and len(questions) == 3
    assert questions[2].prompt == questions[0].prompt


def test_a_linked_question_never_reaches_the_outputs_or_the_report(tmp_path, dataset, outside, capsys):
    folder = sorted(dataset.glob("*/*"))[0]
    _link(folder / PROMPT, outside[0] / "secret.txt")
    out = tmp_path / "out"
    assert main(["run", "--questions", str(dataset), "--models", "static", "--no-controls", "--output-dir", str(out),
                 "--experiment", "e", "--no-progress"]) == 1  # the linked question is reported
    assert "secret.txt: outside" in capsys.readouterr().err
    assert main(["report", "--experiment", "e", "--output-dir", str(out), "--resamples", "100"]) == 0
    written = [p for p in out.rglob("*") if p.is_file()]
    assert any(p.name == "report.html" for p in written)
    assert not [p for p in written if SECRET.encode() in p.read_bytes()]


@pytest.fixture
def experiment(tmp_path):
    exp = tmp_path / "outputs" / "exp"
    write_controls(exp, card_questions(1))
    return exp


ITEM_LINKS = ["question/prompt.txt", "question/first_frame.png", "video.mp4", "last_frame.png", "question",
              "metadata.json"]


def test_items_whose_files_lead_outside_the_experiment_are_left_out_of_score_report_and_review(
        tmp_path, outside, capsys):
    elsewhere, source = outside
    experiment = tmp_path / "outputs" / "exp"
    questions = card_questions(len(ITEM_LINKS))
    for q in questions:
        write_item(experiment, "static", q, static_frames(q, 2))
    write_item(experiment, "oracle", questions[0], oracle_frames(questions[0], 2))
    links = {}
    for item, name in zip(sorted(experiment.glob("static/*/*")), ITEM_LINKS, strict=True):
        if name == "video.mp4":
            target = elsewhere / "copy.mp4"
            target.write_bytes((item / name).read_bytes() + SECRET.encode())
        elif name == "metadata.json":
            target = elsewhere / "metadata.json"
            target.write_text(json.dumps({**json.loads((item / name).read_text()), "note": SECRET}))
        else:
            target = {"question/prompt.txt": elsewhere / "secret.txt", "question": source}.get(name, source / FIRST_FRAME)
        _link(item / name, target)
        links[item / name] = target.resolve()
    assert {item.model for item in iter_items(experiment)} == {"oracle"}
    warnings = capsys.readouterr().err
    assert all(f"{link} -> {target}: outside {experiment}" in warnings for link, target in links.items())
    out = experiment.parent
    assert main(["score", "--experiment", "exp", "--output-dir", str(out), "--quiet"]) == 0
    assert main(["report", "--experiment", "exp", "--output-dir", str(out), "--resamples", "100",
                 "--embed-limit-mb", "1000"]) == 0
    for path in (experiment / "report").iterdir():
        assert SECRET.encode() not in path.read_bytes() and b"elsewhere" not in path.read_bytes(), path
    assert len(json.loads((experiment / "report" / "report.json").read_text())["items"]) == 1
    server = ReviewServer(experiment)
    try:
        assert {item.model for item in server.items} == {"oracle"}
    finally:
        server.httpd.server_close()


def test_an_experiment_name_follows_one_rule_in_score_report_and_review(tmp_path, capsys):
    victim, out = tmp_path / "victim", tmp_path / "outputs"
    victim.mkdir()
    write_controls(victim, card_questions(1))  # a real experiment, but not in the output dir
    (out / "sp ace").mkdir(parents=True)
    before = sorted(victim.rglob("*"))
    for command in ("score", "report", "review"):
        for name in ("../victim", "..", "", ".hidden", "sp ace", "a/b", "x" * 101):
            capsys.readouterr()
            assert main([command, "--experiment", name, "--output-dir", str(out)]) == 2
            assert "an experiment name is a plain folder name" in capsys.readouterr().err
    assert sorted(victim.rglob("*")) == before
    assert check_experiment_name("maze_run-1.5") == "maze_run-1.5"
    with pytest.raises(UserError, match=r"--experiment '\.\./victim'"):
        check_experiment_name("../victim")


def test_appending_to_a_symlinked_scores_file_is_refused(experiment, outside):
    target = outside[0] / "secret.txt"
    (experiment / SCORES).symlink_to(target)
    with pytest.raises(UserError, match=f"scores.jsonl: is a symlink \\(to {target}\\)"):
        append_line(experiment / SCORES, '{"a": 1}')
    assert target.read_text() == SECRET
    assert main(["score", "--experiment", "exp", "--output-dir", str(experiment.parent), "--quiet"]) == 2
    assert target.read_text() == SECRET and os.path.islink(experiment / SCORES)
