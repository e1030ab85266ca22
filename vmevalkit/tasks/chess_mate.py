"""Chess: play the move that mates in one, for White or for Black, in varied random positions.

Positions are random placements checked with python-chess (legal, side to move not in check, at
least one mating move). Pieces are discs with a letter (K Q R B N P): white discs for White,
black discs for Black. The scorer reads the board square by square from the last frames and
accepts it if it is the position after ANY legal mating move, not only the stored one.
Consistency (reported apart): every square the move read from the video does not touch (its
shade and its piece, if any) and the coordinate labels look in the last frames as in the question."""

from __future__ import annotations

from functools import cached_property

import chess
import numpy as np
from PIL import Image, ImageDraw

from vmevalkit.questions import Question
from vmevalkit.scoring.base import Score
from vmevalkit.tasks._draw import Grid, canvas, draw_disc, draw_text
from vmevalkit.tasks._question import check_difficulty, foreign_question, new_question, task_rng
from vmevalkit.tasks._read import GlyphReader, blurred, crop, final_state, luminance
from vmevalkit.tasks._video import solution_video
from vmevalkit.tasks.base import Generated, Task
from vmevalkit.tasks.consistency import aligned, box_mask, grown, part_differences, verdict
from vmevalkit.video import Video

LIGHT, DARK = (235, 210, 160), (170, 120, 80)
PIECE_FILL = {chess.WHITE: (250, 250, 250), chess.BLACK: (30, 30, 30)}
PIECE_INK = {chess.WHITE: (20, 20, 20), chess.BLACK: (245, 245, 245)}
LABEL = (90, 90, 90)
BACKGROUND = (245, 245, 240)
LETTERS = {chess.KING: "K", chess.QUEEN: "Q", chess.ROOK: "R", chess.BISHOP: "B", chess.KNIGHT: "N", chess.PAWN: "P"}
# difficulty -> (fewest, most) pieces besides the kings, and (most mating moves, fewest checking moves)
LEVELS = {"easy": ((1, 3), (8, 1)), "medium": ((4, 7), (2, 2)), "hard": ((8, 12), (1, 3))}
ATTACKER_POOL = [chess.QUEEN] * 3 + [chess.ROOK] * 4 + [chess.BISHOP] * 2 + [chess.KNIGHT] * 2 + [chess.PAWN] * 3
DEFENDER_POOL = [chess.PAWN] * 5 + [chess.ROOK] * 2 + [chess.BISHOP] * 2 + [chess.KNIGHT] * 2 + [chess.QUEEN]
MAX_OF_KIND = {chess.QUEEN: 1, chess.ROOK: 2, chess.BISHOP: 2, chess.KNIGHT: 2, chess.PAWN: 8}  # per side
EMPTY_STD = 15.0  # a square whose blurred luminance varies less than this (grey levels) holds no piece
MOVE_FRAMES = 6


class BoardView:
    """How a position is drawn (White at the bottom) and read back."""

    grid = Grid.centred(8, 8, margin=24)
    radius = 0.42 * grid.cell
    font_size = round(0.55 * grid.cell)

    def square_at(self, square: chess.Square) -> tuple[int, int]:
        """(row, col) on screen: rank 8 is the top row."""
        return 7 - chess.square_rank(square), chess.square_file(square)

    def shade(self, row: int, col: int) -> tuple[int, int, int]:
        return LIGHT if (row + col) % 2 == 0 else DARK

    def empty_board(self) -> Image.Image:
        im = canvas(BACKGROUND)
        draw = ImageDraw.Draw(im)
        g = self.grid
        for r, c in g.cells():
            x0, y0, x1, y1 = g.box(r, c)
            draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=self.shade(r, c))
        for i in range(8):
            draw_text(draw, (g.left - 12, g.pixel_centre(i, 0)[1]), str(8 - i), 14, LABEL)
            draw_text(draw, (g.pixel_centre(7, i)[0], g.top + 8 * g.cell + 12), "abcdefgh"[i], 14, LABEL)
        return im

    def draw_piece(self, draw: ImageDraw.ImageDraw, centre: tuple[float, float], piece: chess.Piece) -> None:
        draw_disc(draw, centre, self.radius, PIECE_FILL[piece.color], outline=(20, 20, 20), width=2)
        draw_text(draw, centre, LETTERS[piece.piece_type], self.font_size, PIECE_INK[piece.color])

    def draw(self, pieces: dict[chess.Square, chess.Piece], moving: tuple[tuple[float, float], chess.Piece] | None = None,
             base: Image.Image | None = None) -> Image.Image:
        """The board with `pieces` on their squares, and optionally one piece at a (row, col) between squares."""
        im = (base if base is not None else self.empty_board()).copy()
        draw = ImageDraw.Draw(im)
        for square, piece in sorted(pieces.items()):
            self.draw_piece(draw, self.grid.pixel_centre(*self.square_at(square)), piece)
        if moving is not None:
            (row, col), piece = moving
            self.draw_piece(draw, self.grid.centre(row, col), piece)
        return im

    def label_boxes(self) -> dict[str, tuple[int, int, int, int]]:
        """Where the rank numbers and the file letters are drawn."""
        g = self.grid
        boxes = {}
        for i in range(8):
            y = g.pixel_centre(i, 0)[1]
            boxes[f"rank label {8 - i}"] = (g.left - 22, y - 9, g.left - 2, y + 10)
            x = g.pixel_centre(7, i)[0]
            boxes[f"file label {'abcdefgh'[i]}"] = (x - 10, g.top + 8 * g.cell + 2, x + 11, g.top + 8 * g.cell + 22)
        return boxes

    def square_box(self, square: chess.Square) -> tuple[int, int, int, int]:
        return self.grid.box(*self.square_at(square))

    def window(self, row: int, col: int) -> tuple[int, int, int, int]:
        """The part of a square inside the piece disc, where the letter is."""
        x, y = self.grid.pixel_centre(row, col)
        h = round(0.7 * self.radius)
        return x - h, y - h, x + h, y + h

    @cached_property
    def readers(self) -> dict[tuple[bool, tuple[int, int, int]], GlyphReader]:
        """One letter reader per (piece colour, square shade), templates rendered as the board draws them."""
        def renderer(color: bool, shade: tuple[int, int, int]):
            def render(letter: str) -> np.ndarray:
                cell = self.grid.cell
                im = Image.new("RGB", (cell, cell), shade)
                piece = chess.Piece(chess.PIECE_SYMBOLS.index(letter.lower()), color)
                self.draw_piece(ImageDraw.Draw(im), (cell // 2, cell // 2), piece)
                x0, y0, x1, y1 = self.window(0, 0)
                return crop(np.asarray(im, dtype=np.float32),
                            (x0 - self.grid.left, y0 - self.grid.top, x1 - self.grid.left, y1 - self.grid.top))
            return render
        return {(color, shade): GlyphReader(list(LETTERS.values()), renderer(color, shade))
                for color in chess.COLORS for shade in (LIGHT, DARK)}

    def read(self, rgb: np.ndarray) -> tuple[dict[chess.Square, chess.Piece], list[dict]]:
        """The piece on every square (from luminance patterns, so colour shifts do not matter)."""
        pieces, doubtful = {}, []
        gray = luminance(rgb)
        for square in chess.SQUARES:
            row, col = self.square_at(square)
            if blurred(crop(gray, self.grid.box(row, col, inset=2))).std() < EMPTY_STD:
                continue
            x, y = self.grid.pixel_centre(row, col)
            ring = self._ring(gray, x, y)
            color = chess.WHITE if float(np.median(ring)) >= 128 else chess.BLACK
            match = self.readers[(color, self.shade(row, col))].read(crop(rgb, self.window(row, col)))
            pieces[square] = chess.Piece(chess.PIECE_SYMBOLS.index(match.label.lower()), color)
            if match.score < 0.6 or match.margin < 0.03:
                doubtful.append({"square": chess.square_name(square), "read": pieces[square].symbol(),
                                 "score": match.score, "margin": match.margin})
        return pieces, doubtful

    def _ring(self, gray: np.ndarray, x: int, y: int) -> np.ndarray:
        """Luminance of the disc between 0.6 and 0.9 of its radius: the piece's colour, not its letter."""
        r = int(self.radius) + 1
        yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
        dist = np.hypot(xx, yy) / self.radius
        patch = gray[y - r:y + r + 1, x - r:x + r + 1]
        return patch[(dist >= 0.6) & (dist <= 0.9)]


VIEW = BoardView()


def random_position(rng, extra: int, mover: bool) -> chess.Board:
    """Kings (the defender's often on the edge) and `extra` random pieces (no more of a kind than a
    side starts with, one queen); may be illegal."""
    board = chess.Board(None)
    edge = [s for s in chess.SQUARES if chess.square_rank(s) in (0, 7) or chess.square_file(s) in (0, 7)]
    defender_king = rng.choice(edge) if rng.random() < 0.7 else rng.choice(chess.SQUARES)
    board.set_piece_at(defender_king, chess.Piece(chess.KING, not mover))
    board.set_piece_at(rng.choice([s for s in chess.SQUARES if chess.square_distance(s, defender_king) > 1]),
                       chess.Piece(chess.KING, mover))
    while len(board.piece_map()) < 2 + extra:
        attacker = rng.random() < 0.6
        colour = mover if attacker else not mover
        kind = rng.choice(ATTACKER_POOL if attacker else DEFENDER_POOL)
        if len(board.pieces(kind, colour)) >= MAX_OF_KIND[kind]:
            continue
        free = [s for s in chess.SQUARES if board.piece_at(s) is None
                and (kind != chess.PAWN or chess.square_rank(s) not in (0, 7))]
        board.set_piece_at(rng.choice(free), chess.Piece(kind, colour))
    board.turn = mover
    return board


def moved_squares(board: chess.Board, move: chess.Move) -> set[chess.Square]:
    """The squares whose content `move` changes (both of a castling's pieces, an en-passant capture)."""
    after = board.copy(stack=False)
    after.push(move)
    return {s for s in chess.SQUARES if board.piece_at(s) != after.piece_at(s)}


def mating_moves(board: chess.Board) -> list[chess.Move]:
    mates = []
    for move in board.legal_moves:
        if board.gives_check(move):
            board.push(move)
            if board.is_checkmate():
                mates.append(move)
            board.pop()
    return mates


class ChessMateTask(Task):
    name = "chess"
    version = "1"
    scorer_revision = 1  # 1: consistency is checked
    description = "Play the checkmate in one (White or Black to move) on a drawn board, verified with python-chess."

    def make(self, seed: int, difficulty: str) -> tuple[chess.Board, list[chess.Move]]:
        check_difficulty(self, difficulty)
        rng = task_rng(self.name, seed, difficulty)
        (fewest, most), (max_mates, min_checks) = LEVELS[difficulty]
        mover = rng.random() < 0.5
        while True:
            board = random_position(rng, rng.randint(fewest, most), mover)
            if not board.is_valid() or board.is_check():
                continue
            mates = mating_moves(board)
            checks = sum(board.gives_check(m) for m in board.legal_moves)
            if 1 <= len(mates) <= max_mates and checks >= min_checks:
                return board, sorted(mates, key=lambda m: m.uci())

    def generate(self, seed: int, difficulty: str) -> Generated:
        board, mates = self.make(seed, difficulty)
        move = mates[task_rng(self.name, seed, "shown mate").randrange(len(mates))]
        after = board.copy()
        after.push(move)
        frames = self.move_frames(board, move)
        side = "White" if board.turn == chess.WHITE else "Black"
        prompt = (f"{side} to move and checkmate in one. White pieces are white discs and Black pieces are black "
                  "discs, lettered K king, Q queen, R rook, B bishop, N knight, P pawn; White plays up the board "
                  f"(rank 1 at the bottom). Slide the {side.lower()} piece that gives checkmate to its square, "
                  "capturing if needed. Move only that piece, keep the camera fixed and the board unchanged.")
        question = new_question(self, seed, difficulty, prompt=prompt, first=frames[0], final=frames[-1],
                                solution={"move_uci": move.uci(), "move_san": board.san(move),
                                          "fen_after": after.fen(), "all_mates_uci": [m.uci() for m in mates]},
                                chess={"fen": board.fen(), "to_move": side.lower()})
        return Generated(question, solution_video(frames))

    def move_frames(self, board: chess.Board, move: chess.Move) -> list[Image.Image]:
        """The position, the piece sliding to its square, then the position after the move."""
        base = VIEW.empty_board()
        pieces = board.piece_map()
        mover = pieces.pop(move.from_square)
        (r0, c0), (r1, c1) = VIEW.square_at(move.from_square), VIEW.square_at(move.to_square)
        frames = [VIEW.draw(board.piece_map(), base=base)]
        for k in range(1, MOVE_FRAMES):
            t = k / MOVE_FRAMES
            frames.append(VIEW.draw(pieces, ((r0 + (r1 - r0) * t, c0 + (c1 - c0) * t), mover), base=base))
        after = board.copy()
        after.push(move)
        frames.append(VIEW.draw(after.piece_map(), base=base))
        return frames

    def wrong_final_frame(self, question: Question, seed: int) -> Image.Image:
        """The position after a legal move that does not mate, by the mating piece where it has one."""
        board = chess.Board(question.metadata["chess"]["fen"])
        mate = chess.Move.from_uci(question.metadata["solution"]["move_uci"])
        mates = set(mating_moves(board))
        others = sorted((m for m in board.legal_moves if m not in mates), key=lambda m: m.uci())
        same_piece = [m for m in others if m.from_square == mate.from_square]
        wrong = task_rng(self.name, seed, "wrong").choice(same_piece or others)
        board.push(wrong)
        return VIEW.draw(board.piece_map())

    def inconsistent_final_frame(self, question: Question, seed: int) -> Image.Image:
        """The position after the mate, with one empty square the move does not touch painted the other shade."""
        board = chess.Board(question.metadata["chess"]["fen"])
        move = chess.Move.from_uci(question.metadata["solution"]["move_uci"])
        touched = moved_squares(board, move)
        board.push(move)
        image = VIEW.draw(board.piece_map())
        empty = [s for s in chess.SQUARES if board.piece_at(s) is None and s not in touched]
        square = task_rng(self.name, seed, f"inconsistent:{question.id}").choice(empty)
        row, col = VIEW.square_at(square)
        x0, y0, x1, y1 = VIEW.square_box(square)
        ImageDraw.Draw(image).rectangle((x0, y0, x1 - 1, y1 - 1), fill=DARK if VIEW.shade(row, col) == LIGHT else LIGHT)
        return image

    @staticmethod
    def consistency(board: chess.Board, move: chess.Move, question: Question, state: np.ndarray
                    ) -> tuple[bool, dict]:
        """Whether every square `move` does not touch, and the labels, look as in the question's first frame."""
        reference = np.asarray(question.first_frame, np.float64)
        touched = moved_squares(board, move)
        moving = box_mask(reference.shape, [VIEW.square_box(s) for s in touched])
        seen = aligned(state, reference, moving)
        parts = {f"square {chess.square_name(s)}": VIEW.square_box(s) for s in chess.SQUARES if s not in touched}
        parts.update(VIEW.label_boxes())
        return verdict(part_differences(seen, reference, parts, grown(moving)),
                       "the squares the move leaves alone, and the labels")

    def score(self, question: Question, video: Video) -> Score:
        if (problem := foreign_question(self, question)) is not None:
            return problem
        board = chess.Board(question.metadata["chess"]["fen"])
        state = final_state(video, question.first_frame.size)
        read, doubtful = VIEW.read(state)
        read_board = chess.Board(None)
        read_board.set_piece_map(read)
        best = None  # (squares differing, move, is mate)
        for move in sorted(board.legal_moves, key=lambda m: m.uci()):
            board.push(move)
            after = board.piece_map()
            differ = sum(after.get(s) != read.get(s) for s in chess.SQUARES)
            if best is None or differ < best[0]:
                best = (differ, move, board.is_checkmate())
            board.pop()
        differ, move, mate = best
        exact = differ == 0
        correct = exact and mate
        consistent, consistency = self.consistency(board, move, question, state)
        return Score(scorer=self.name, version=self.scorer_version, correct=correct, score=float(correct),
                     consistent=consistent,
                     details={"position_read": read_board.board_fen(), "move_read": board.san(move) if exact else None,
                              "is_mate": mate if exact else None, "closest_move": board.san(move),
                              "squares_off_closest": differ, "unchanged": read == board.piece_map(),
                              "doubtful_squares": doubtful, "consistency": consistency})


TASK = ChessMateTask()
