"""The chess task: mate-in-one positions verified with python-chess, and a square-by-square reader."""

import chess
import numpy as np
import pytest

from vmevalkit.tasks import get_task
from vmevalkit.tasks._video import cut_video, held_video
from vmevalkit.tasks.chess_mate import LEVELS, VIEW
from vmevalkit.tasks.validation import all_distortions

TASK = get_task("chess")


@pytest.fixture(scope="module")
def generated():
    return {d: TASK.generate(5, d) for d in TASK.difficulties}


def _mates(board: chess.Board) -> set[str]:
    found = set()
    for move in board.legal_moves:
        after = board.copy()
        after.push(move)
        if after.is_checkmate():
            found.add(move.uci())
    return found


@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_positions_are_legal_mates_in_one(difficulty):
    (fewest, most), (max_mates, _) = LEVELS[difficulty]
    movers = set()
    for seed in range(12):
        q = TASK.generate(seed, difficulty).question
        board = chess.Board(q.metadata["chess"]["fen"])
        assert board.is_valid() and not board.is_check() and not board.is_game_over()
        mates = _mates(board)
        assert q.metadata["solution"]["move_uci"] in mates
        assert set(q.metadata["solution"]["all_mates_uci"]) == mates and 1 <= len(mates) <= max_mates
        assert 2 + fewest <= len(board.piece_map()) <= 2 + most
        after = chess.Board(q.metadata["solution"]["fen_after"])
        assert after.is_checkmate()
        movers.add(board.turn)
    assert movers == {chess.WHITE, chess.BLACK}


def test_every_piece_on_both_shades_is_read_back_even_distorted():
    pieces = {}
    kinds = [chess.Piece(t, c) for c in chess.COLORS for t in chess.PIECE_TYPES]
    for i, piece in enumerate(kinds):  # each piece once on a light and once on a dark square
        pieces[chess.square(i % 8, 2 * (i // 8))] = piece
        pieces[chess.square(i % 8, 2 * (i // 8) + 1)] = piece
    pieces[chess.square(0, 5)] = chess.Piece(chess.KNIGHT, chess.BLACK)
    image = VIEW.draw(pieces)
    assert VIEW.read(np.asarray(image, dtype=np.float32))[0] == pieces
    distorted = all_distortions(held_video(image, 3), np.random.default_rng(0))
    assert VIEW.read(np.median(distorted.frames.astype(np.float32), axis=0))[0] == pieces


def test_oracle_is_read_as_the_mating_move(generated):
    for g in generated.values():
        s = TASK.score(g.question, g.solution)
        assert s.correct is True and s.details["is_mate"] is True
        assert s.details["move_read"] == g.question.metadata["solution"]["move_san"]
        assert s.details["position_read"] == chess.Board(g.question.metadata["solution"]["fen_after"]).board_fen()


def test_static_video_is_incorrect(generated):
    for g in generated.values():
        s = TASK.score(g.question, held_video(g.question.first_frame))
        assert s.correct is False and s.details["unchanged"] and s.details["move_read"] is None


def test_a_move_that_does_not_mate_is_caught(generated):
    for g in generated.values():
        s = TASK.score(g.question, cut_video(g.question.first_frame, TASK.wrong_final_frame(g.question, 0)))
        assert s.correct is False and s.details["move_read"] is not None and s.details["is_mate"] is False


def test_any_mating_move_counts_not_only_the_stored_one():
    q = next(q for q in (TASK.generate(s, "easy").question for s in range(40))
             if len(q.metadata["solution"]["all_mates_uci"]) > 1)
    board = chess.Board(q.metadata["chess"]["fen"])
    other = next(chess.Move.from_uci(m) for m in q.metadata["solution"]["all_mates_uci"]
                 if m != q.metadata["solution"]["move_uci"])
    san = board.san(other)
    board.push(other)
    s = TASK.score(q, held_video(VIEW.draw(board.piece_map())))
    assert s.correct is True and s.details["move_read"] == san


def test_a_position_no_legal_move_reaches_is_incorrect(generated):
    q = generated["hard"].question
    after = chess.Board(q.metadata["solution"]["fen_after"])
    pieces = after.piece_map()
    pieces.pop(next(s for s, p in pieces.items() if p.piece_type != chess.KING))  # a piece vanishes too
    s = TASK.score(q, held_video(VIEW.draw(pieces)))
    assert s.correct is False and s.details["move_read"] is None and s.details["squares_off_closest"] >= 1
