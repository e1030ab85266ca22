"""Cost of the cheap soundness check of a finished item's video (vmevalkit.video.probe_mp4: container header,
packets, first frame), against reading the whole video (read_mp4), per item, on videos the kit writes.

    python benchmarks/video_check.py --frames 16 --height 320 --width 512 --repeat 50
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from vmevalkit.video import Video, probe_mp4, read_mp4, write_mp4


def _microseconds(call, repeat: int) -> tuple[float, float]:
    """Median and fastest time of `call` in µs over `repeat` runs (after one warm-up run)."""
    call()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1e6)
    return statistics.median(times), min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, nargs="+", default=[16])
    parser.add_argument("--height", type=int, default=320)
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print("| frames | size | file KiB | probe_mp4 µs (median / min) | read_mp4 µs (median / min) |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for frames in args.frames:
            path = Path(tmp) / f"v{frames}.mp4"
            base = rng.integers(0, 256, (args.height, args.width, 3), dtype=np.uint8)
            clip = np.stack([np.roll(base, 4 * i, axis=1) for i in range(frames)])  # moving, so not all alike
            write_mp4(Video(clip, 8), path)
            probe = _microseconds(lambda: probe_mp4(path), args.repeat)
            read = _microseconds(lambda: read_mp4(path), max(1, args.repeat // 5))
            print(f"| {frames} | {args.width}x{args.height} | {path.stat().st_size / 1024:.0f} | "
                  f"{probe[0]:.0f} / {probe[1]:.0f} | {read[0]:.0f} / {read[1]:.0f} |")


if __name__ == "__main__":
    main()
