import numpy as np
import pytest
from experiment_tree import cards_image, noise_frames, oracle_frames, static_frames, write_item
from PIL import Image

from vmevalkit.questions import Question, scan_questions
from vmevalkit.results import read_item
from vmevalkit.scoring.pipeline import answer_video
from vmevalkit.scoring.similarity import THRESHOLD, SimilarityScorer
from vmevalkit.video import Video


def _through_model(tmp_path, question, images):
    """Score a video as the pipeline does: fitted to a model size, encoded as mp4, read and fitted back."""
    item = read_item(write_item(tmp_path, "m", question, images))
    return SimilarityScorer(item.fit().scaled_size).score(question, answer_video(item))


def test_oracle_beats_static_on_every_older_kit_question(tmp_path, test_questions):
    questions, problems = scan_questions(test_questions)
    assert len(questions) == 5 and not problems
    for q in questions:
        oracle = _through_model(tmp_path, q, oracle_frames(q))
        static = _through_model(tmp_path, q, static_frames(q))
        noise = _through_model(tmp_path, q, noise_frames(q))
        assert oracle.correct is True and oracle.score > 0.9, (q.id, oracle)
        assert static.correct is False and static.score < 0.05, (q.id, static)
        assert noise.correct is False and noise.score < 0.05, (q.id, noise)


def _question(first: Image.Image, final: Image.Image | None) -> Question:
    return Question(id="q", domain="cards", prompt="fill the slots", first_frame=first, final_frame=final)


def test_partial_answer_scores_between_still_and_solution():
    q = _question(cards_image(4, 0), cards_image(4, 4))
    scorer = SimilarityScorer()
    half = scorer.score(q, Video.from_images([cards_image(4, 2)], fps=8))
    assert 0.4 < half.score < 0.6 and half.details["changed"] == pytest.approx(half.score, abs=0.01)
    assert half.correct is False  # half the change is not a solution
    assert scorer.score(q, Video.from_images([cards_image(4, 4)], fps=8)).score == 1.0


def test_an_object_moved_to_the_wrong_place_is_not_a_solution():
    def board(at: int) -> Image.Image:  # an agent dot on one of four cells
        image = cards_image(4, 0)
        x = 10 + at * 45
        image.paste((220, 30, 30), (x + 8, 38, x + 28, 62))
        return image

    q = _question(board(0), board(3))
    scorer = SimilarityScorer()
    assert scorer.score(q, Video.from_images([board(3)], fps=8)).correct is True
    wrong = scorer.score(q, Video.from_images([board(2)], fps=8))
    assert wrong.correct is False and 0.4 < wrong.score < 0.6  # it left the start, but did not reach the goal


def test_answer_that_destroys_the_rest_of_the_scene_scores_low():
    q = _question(cards_image(4, 0), cards_image(4, 4))
    result = SimilarityScorer().score(q, Video.from_images([cards_image(4, 4, background=(40, 200, 40))], fps=8))
    assert result.details["changed"] > 0.9 and result.details["kept"] < 0.2 and result.correct is False


def test_best_of_the_last_frames_counts_and_earlier_frames_do_not():
    q = _question(cards_image(4, 0), cards_image(4, 4))
    scorer = SimilarityScorer()
    solved_then_undone = [cards_image(4, 4)] * 5 + [cards_image(4, 0)] * 3
    assert scorer.score(q, Video.from_images(solved_then_undone, fps=8)).correct is False
    flicker_at_end = [cards_image(4, 0)] * 5 + [cards_image(4, 4), cards_image(4, 4), cards_image(4, 3)]
    result = scorer.score(q, Video.from_images(flicker_at_end, fps=8))
    assert result.correct is True and result.details["frame"] in (5, 6)
    assert result.score >= THRESHOLD


def test_unscorable_questions_give_an_error_not_a_verdict():
    scorer = SimilarityScorer()
    video = Video.from_images([cards_image(4, 4)], fps=8)
    same = scorer.score(_question(cards_image(4, 1), cards_image(4, 1)), video)
    assert same.correct is None and "same as first_frame" in same.error
    missing = scorer.score(_question(cards_image(4, 1), None), video)
    assert missing.correct is None and "no final_frame.png" in missing.error


def test_video_of_another_size_is_compared_at_the_question_size():
    q = _question(cards_image(4, 0), cards_image(4, 4))
    big = Video(np.asarray(cards_image(4, 4).resize((400, 200)))[None], fps=8)
    assert SimilarityScorer().score(q, big).correct is True


def test_comparison_is_no_finer_than_half_what_the_model_saw():
    q = _question(cards_image(4, 0).resize((1000, 500)), cards_image(4, 4).resize((1000, 500)))
    video = Video.from_images([q.final_frame], fps=8)
    assert SimilarityScorer().score(q, video).details["compared_at"] == [256, 128]
    assert SimilarityScorer((320, 160)).score(q, video).details["compared_at"] == [160, 80]
