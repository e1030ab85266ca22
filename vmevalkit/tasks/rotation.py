"""Mental rotation: a sculpture of coloured cubes on a turntable; show it after a given turn.

The first frame shows the sculpture from one side; the prompt says how far and which way the
turntable turns; the expected final frame is the same sculpture from the new side. The scorer
renders the candidate views (every 45 degrees of turn, and the mirror-image sculpture at the
expected turn) and judges the video by which candidate its last frames are closest to.
Consistency (reported apart): everything the turning plate and its cubes cannot reach at any angle
(the background around them) looks in the last frames as in the question: the camera and the
world off the turntable stay put.
"""

from __future__ import annotations

import json
import random
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw

from vmevalkit.questions import Question
from vmevalkit.scoring.base import Score
from vmevalkit.tasks._draw import CANVAS
from vmevalkit.tasks._question import check_difficulty, foreign_question, new_question, task_rng
from vmevalkit.tasks._read import final_state
from vmevalkit.tasks._video import solution_video
from vmevalkit.tasks.base import Generated, Task
from vmevalkit.tasks.candidates import aligned_distances, closest, standardised, thumbnail, zoomed
from vmevalkit.tasks.consistency import aligned, grown, part_differences, tiles, verdict
from vmevalkit.tasks.voxels import BACKGROUND, Camera, Scene, reach, render
from vmevalkit.video import Video

SIZE = (CANVAS, CANVAS)
ELEVATION = 30.0
SCALE = 60.0  # px per cube edge
PALETTE = ((52, 101, 196), (226, 160, 38), (64, 160, 86), (196, 72, 150), (46, 170, 176))
STEP = 45  # candidate views are every STEP degrees of turn
SIGNATURE_SIZE = (64, 64)
ZOOMS = (0.9, 1.0, 1.1)  # a video may drift in framing: each view is also compared zoomed...
MAX_SHIFT = 2  # ...and shifted by up to this many thumbnail pixels (12 px of the 384 px frame)
# Distances are mean absolute differences of standardised 64x64 thumbnails, at the best zoom and
# shift. The oracle after the validation distortions lands about 0.015 from its view; distinct views
# are mostly 0.1-0.3 apart; a blank or noise frame is 0.7 or more from every view.
MAX_DISTANCE = 0.3  # farther than this from every candidate: no view of the sculpture was recognised
MIN_SEPARATION = 0.06  # the generator rejects sculptures with two candidate views closer than this
MOVE_FRAMES = 12
REACH_MARGIN = 6  # px around what the turntable can reach that a blurred or drifted video may still cover
TILE = 32  # px: the background is checked tile by tile...
MIN_TILE_SHARE = 0.25  # ...for the tiles that much of which lies off the turntable's reach
MARK = 24  # px: the side of the stray square `inconsistent_final_frame` draws off the turntable
PROMPT = ("A sculpture of coloured cubes stands on a grey turntable with a red strip along one edge. "
          "Turn the turntable with the sculpture {turn}, as seen from above, while the camera stays still, "
          "and stop there so that the final frame shows the sculpture from its new side.")
MAX_ATTEMPTS = 200

# difficulty -> (number of cubes, turns in degrees the turntable may make; positive is clockwise)
LEVELS = {
    "easy": (4, (90, -90)),
    "medium": (6, (90, -90, 180)),
    "hard": (8, (45, -45, 90, -90, 135, -135, 180)),
}


def _sculpture(rng: random.Random, n: int) -> Scene:
    """A connected, physically supported set of n cubes in a 3x3x3 block, each coloured from PALETTE."""
    cubes = {(1, 1, 0)}
    while len(cubes) < n:
        x, y, z = rng.choice(sorted(cubes))
        dx, dy, dz = rng.choice([(1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1)])
        v = (x + dx, y + dy, z + dz)
        supported = v[2] == 0 or (v[0], v[1], v[2] - 1) in cubes
        if v in cubes or not all(0 <= c <= 2 for c in v) or not supported:
            continue
        cubes.add(v)
    return Scene(tuple((v, rng.choice(PALETTE)) for v in sorted(cubes)))


def view(scene: Scene, azimuth: float) -> Image.Image:
    """The question-sized picture of `scene` from the camera at `azimuth` degrees."""
    return render(scene, Camera(azimuth % 360, ELEVATION, SCALE), SIZE)


def _candidate_views(scene: Scene, start: float, turn: int) -> dict[str, tuple[Scene, float]]:
    """Every candidate final view: the turntable turned by each multiple of STEP, and the mirror-image
    sculpture turned by the asked amount. A clockwise turn of the table is the camera orbiting the
    other way, so the camera's azimuth grows by the turn."""
    views = {f"turn{t:+d}": (scene, start + t) for t in range(-180 + STEP, 181, STEP)}
    views["mirror"] = (scene.mirrored(), start + turn)
    return views


@lru_cache(maxsize=32)
def _signatures(solution_json: str) -> dict[str, np.ndarray]:
    """The signatures of every candidate view at each zoom (cached: a question is often scored
    several times)."""
    sol = json.loads(solution_json)
    scene = _scene_from(sol["cubes"])
    found = {}
    for name, (s, az) in _candidate_views(scene, sol["start_azimuth"], sol["turn"]).items():
        image = view(s, az)
        found[name] = np.stack([_signature(zoomed(image, z, BACKGROUND)) for z in ZOOMS])
    return found


def _signature(image: Image.Image | np.ndarray) -> np.ndarray:
    """A 64x64 thumbnail standardised per channel: brightness and colour shifts cancel out."""
    return standardised(thumbnail(image, SIGNATURE_SIZE))


def _scene_from(cubes: list) -> Scene:
    return Scene(tuple((tuple(v), tuple(c)) for v, c in cubes))


def _turn_words(turn: int) -> str:
    way = "clockwise" if turn > 0 else "counter-clockwise"
    return f"{abs(turn)} degrees {way}"


class RotationTask(Task):
    name = "rotation"
    version = "1"
    scorer_revision = 1  # 1: consistency is checked
    description = "A cube sculpture on a turntable: show it after the table turns by a given angle."

    def generate(self, seed: int, difficulty: str) -> Generated:
        check_difficulty(self, difficulty)
        n, turns = LEVELS[difficulty]
        rng = task_rng(self.name, seed, difficulty)
        for _ in range(MAX_ATTEMPTS):
            scene = _sculpture(rng, n)
            start = rng.randrange(0, 360, 5)
            turn = rng.choice(turns)
            solution = {"cubes": [[list(v), list(c)] for v, c in scene.cubes], "start_azimuth": start,
                        "turn": turn, "elevation": ELEVATION, "answer": f"turn{turn:+d}"}
            sigs = _signatures(_key(solution))
            names = sorted(sigs)
            unzoomed = ZOOMS.index(1.0)
            gaps = [aligned_distances(sigs[a][unzoomed], {b: sigs[b] for b in names[i + 1:]}, MAX_SHIFT)
                    for i, a in enumerate(names[:-1])]
            if min(min(g.values()) for g in gaps) >= MIN_SEPARATION:  # every candidate view is distinct
                break
        else:
            raise RuntimeError(f"rotation: no asymmetric sculpture in {MAX_ATTEMPTS} attempts (seed {seed})")
        frames = [view(scene, start + turn * i / MOVE_FRAMES) for i in range(MOVE_FRAMES + 1)]
        prompt = PROMPT.format(turn=_turn_words(turn))
        question = new_question(self, seed, difficulty, prompt=prompt, first=frames[0], final=frames[-1],
                                solution=solution, candidates=sorted(_candidate_views(scene, start, turn)))
        return Generated(question, solution_video(frames))

    def inconsistent_final_frame(self, question: Question, seed: int) -> Image.Image:
        """The expected view with a stray coloured square drawn on the background, off the turntable."""
        solution = question.metadata["solution"]
        off = ~_reach(_key(solution))
        spots = [(x, y) for y in range(0, SIZE[1] - MARK, 8) for x in range(0, SIZE[0] - MARK, 8)
                 if off[y:y + MARK, x:x + MARK].all()]
        rng = task_rng(self.name, seed, f"inconsistent:{question.id}")
        x, y = rng.choice(spots)
        image = question.final_frame.copy()
        ImageDraw.Draw(image).rectangle((x, y, x + MARK - 1, y + MARK - 1), fill=rng.choice(PALETTE))
        return image

    @staticmethod
    def consistency(question: Question, state: np.ndarray) -> tuple[bool, dict]:
        """Whether the background off the turntable's reach looks as in the question's first frame."""
        reference = np.asarray(question.first_frame, np.float64)
        moving = _reach(_key(question.metadata["solution"]))
        seen = aligned(state, reference, moving, drift=False)  # the camera must not move either
        parts = {f"background {name}": box for name, box in tiles((0, 0, *SIZE), TILE).items()
                 if (~moving[box[1]:box[3], box[0]:box[2]]).mean() >= MIN_TILE_SHARE}
        return verdict(part_differences(seen, reference, parts, moving), "the background off the turntable")

    def score(self, question: Question, video: Video) -> Score:
        if (problem := foreign_question(self, question)) is not None:
            return problem
        solution = question.metadata["solution"]
        seen = final_state(video, question.first_frame.size)
        dist = aligned_distances(_signature(seen), _signatures(_key(solution)), MAX_SHIFT)
        read, margin = closest(dist)
        recognised = dist[read] <= MAX_DISTANCE
        correct = recognised and read == solution["answer"]
        consistent, consistency = self.consistency(question, seen)
        return Score(self.name, self.scorer_version, correct, 1.0 if correct else 0.0,
                     {"read": read if recognised else None, "expected": solution["answer"],
                      "distance": dist[read], "margin": margin, "max_distance": MAX_DISTANCE,
                      "distances": dist, "consistency": consistency}, consistent=consistent)

    def wrong_final_frame(self, question: Question, seed: int) -> Image.Image:
        solution = question.metadata["solution"]
        views = _candidate_views(_scene_from(solution["cubes"]), solution["start_azimuth"], solution["turn"])
        wrong = sorted(name for name in views if name != solution["answer"])
        scene, azimuth = views[task_rng(self.name, seed, f"wrong:{question.id}").choice(wrong)]
        return view(scene, azimuth)


@lru_cache(maxsize=32)
def _reach(solution_json: str) -> np.ndarray:
    """What the turntable may cover at any angle, grown by REACH_MARGIN: everything else must stay."""
    scene = _scene_from(json.loads(solution_json)["cubes"])
    return grown(reach(scene, Camera(0.0, ELEVATION, SCALE), SIZE), REACH_MARGIN)


def _key(solution: dict) -> str:
    return json.dumps({k: solution[k] for k in ("cubes", "start_azimuth", "turn")}, sort_keys=True)


TASK = RotationTask()
