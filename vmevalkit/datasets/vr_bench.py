"""VR-Bench ("Reasoning via Video", amagipeng/VR-Bench on the Hub, MIT licence).

The Hub holds the set as `train.tar.gz` and `eval.tar.gz`; the evaluation archive is imported. Inside, each
level of a game is `<split>/<game>/<skin>/<difficulty>/images/<level>.png` (the start), `states/<level>.json`
(the level: grid, player, goal, boxes) and `videos/<level>_<k>.mp4` (its optimal solutions; `<level>.mp4`
when there is one). Each level becomes a question: the image is the first frame, the first solution video is
`ground_truth.mp4` and its last frame the expected final frame; the state and the names of every solution
video are kept in the metadata. The Hub's files hold no prompts (VR-Bench's generator writes them from skin
descriptions kept in its GitHub repository), so the prompt is the kit's own, one per game."""

from __future__ import annotations

import shutil
import tarfile
from collections.abc import Iterator
from pathlib import Path

from vmevalkit.datasets.base import DatasetSource, Record, plain_name
from vmevalkit.errors import UserError
from vmevalkit.images import load_rgb
from vmevalkit.jsonfile import read_json_object
from vmevalkit.video import read_mp4

ARCHIVE = "eval.tar.gz"
DONE = ".unpacked"  # marks a complete unpacking, so an interrupted one is redone
SPLITS = ("eval", "train")
PROMPTS = {
    "maze": "Animate the player token moving along the open paths of this maze until it rests on the goal. "
            "It never passes through a wall. The maze does not change; the camera is static, seen from above.",
    "trapfield": "Animate the player token crossing the field to the goal without ever stepping on a trap. "
                 "The field does not change; the camera is static, seen from above.",
    "sokoban": "Animate the player pushing the boxes, one square at a time, until every box rests on a "
               "target. Boxes are only pushed, never pulled, and nothing moves through a wall. The camera is "
               "static, seen from above.",
    "pathfinder": "Animate the player token travelling along the curved paths of this irregular maze until it "
                  "reaches the goal, never leaving the paths. The maze does not change; the camera is static.",
    "maze3d": "Animate the player climbing through this multi-level maze, using the ladders between floors, "
              "until it reaches the goal. It never passes through a wall. The maze does not change; the camera "
              "is static.",
}
GENERIC_PROMPT = ("Animate the player solving this puzzle by the shortest legal route to the goal. The board does "
                  "not change; the camera is static.")
GAME_ALIASES = {"irregular_maze": "pathfinder", "regular_maze": "maze", "3d_maze": "maze3d"}


def unpack(archive: Path, into: Path) -> Path:
    """Unpack `archive` into `into` once (an interrupted unpacking is redone), refusing members that would
    land outside it or are not plain files and folders."""
    if (into / DONE).is_file():
        return into
    if not hasattr(tarfile, "data_filter"):
        raise UserError("unpacking VR-Bench safely needs Python 3.10.12 / 3.11.4 or newer (tarfile's data filter)")
    shutil.rmtree(into, ignore_errors=True)
    into.mkdir(parents=True)
    try:
        with tarfile.open(archive, "r:*") as tar:
            tar.extractall(into, filter="data")
    except (tarfile.TarError, OSError, EOFError) as e:
        raise UserError(f"{archive}: cannot unpack it ({type(e).__name__}: {e}); delete it from the cache and "
                        "rerun the import to fetch it again") from e
    (into / DONE).write_text("")
    return into


def _solution_videos(level_dir: Path, stem: str) -> list[Path]:
    videos = level_dir / "videos"
    numbered = [p for p in videos.glob(f"{stem}_*.mp4") if p.stem[len(stem) + 1:].isdigit()]
    numbered.sort(key=lambda p: int(p.stem[len(stem) + 1:]))
    return numbered or [p for p in [videos / f"{stem}.mp4"] if p.is_file()]


def _records(snapshot: Path, scratch: Path) -> Iterator[Record | str]:
    root = unpack(snapshot / ARCHIVE, scratch)
    images = sorted(root.rglob("images/*.png"))
    if not images:
        yield f"{ARCHIVE}: holds no images/<level>.png"
    for image in images:
        try:
            yield _record(root, image)
        except UserError as e:
            yield f"{image.relative_to(root)}: {e}"


def _record(root: Path, image: Path) -> Record:
    level_dir, stem = image.parent.parent, image.stem
    parts = level_dir.relative_to(root).parts
    at = next((i for i, part in enumerate(parts) if part in SPLITS), None)
    if at is None or at + 1 >= len(parts):
        raise UserError("not under <split>/<game>/")
    split, folder_game, rest = parts[at], parts[at + 1], parts[at + 2:]
    state_path = level_dir / "states" / f"{stem}.json"
    state = read_json_object(state_path) if state_path.is_file() else None
    game = str((state or {}).get("game_type") or folder_game)
    game = GAME_ALIASES.get(game, game)
    videos = _solution_videos(level_dir, stem)
    if not videos:
        raise UserError(f"no solution video videos/{stem}.mp4 or videos/{stem}_<k>.mp4")
    # `rest` is (skin, difficulty); a level's name often repeats its difficulty ("easy_0001"): said once
    qid = "_".join([p for p in rest if not stem.startswith(p + "_")] + [stem])
    metadata = {"original_id": f"{level_dir.relative_to(root).as_posix()}/{stem}", "split": split, "game": game,
                "skin": rest[0] if len(rest) > 0 else None, "difficulty": rest[1] if len(rest) > 1 else None,
                "original_answer": {"solution_videos": [v.relative_to(root).as_posix() for v in videos],
                                    "kept_as": "ground_truth.mp4 (the first) and final_frame.png (its last frame)"},
                "original_state": state, "source_file": f"{ARCHIVE}: {image.relative_to(root).as_posix()}",
                "prompt_source": "vmevalkit (VR-Bench's Hub files hold no prompts)"}
    return Record(domain=f"vr-bench-{plain_name(game, 'game')}", id=qid, prompt=PROMPTS.get(game, GENERIC_PROMPT),
                  images=lambda: (load_rgb(image), read_mp4(videos[0]).last_frame), metadata=metadata,
                  ground_truth=videos[0])


SOURCES = (DatasetSource(
    name="vr-bench", title="VR-Bench", repo_id="amagipeng/VR-Bench", licence="MIT",
    description="VR-Bench evaluation split (mazes, trap fields, Sokoban), with solution videos",
    allow_patterns=(ARCHIVE, "README.md"), read=_records),)
