"""`vmevalkit review`: a local web page to check items by eye; verdicts go to scores.jsonl as `human`."""

from __future__ import annotations

import argparse
import getpass
import sys

from vmevalkit.commands._experiment import add_experiment_options, experiment_dir

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "review", help="review videos by eye in a local web page (verdicts saved as scorer 'human')",
        description="Serve a page that shows each item's prompt, first frame, expected final frame and video "
        "side by side; your verdicts are appended to scores.jsonl with scorer 'human'. Ctrl-C stops it.")
    add_experiment_options(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    p.add_argument("--reviewer", default=None, help="your name, recorded with each verdict (default: login name)")
    p.add_argument("--blind", action="store_true",
                   help="hide model names and the automatic scorers' verdicts, and shuffle the order")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vmevalkit.review.server import ReviewServer

    server = ReviewServer(experiment_dir(args), args.host, args.port, args.reviewer or getpass.getuser(), args.blind)
    if args.host not in LOOPBACK:
        print(f"warning: listening on {args.host}: anyone who can reach it can see the videos and record verdicts",
              file=sys.stderr)
    print(f"reviewing {len(server.items)} item(s) of {args.experiment} at {server.url}  (Ctrl-C to stop)", flush=True)
    server.serve_forever()
    print(f"stopped; verdicts are in {server.root / 'scores.jsonl'}")
    return 0
