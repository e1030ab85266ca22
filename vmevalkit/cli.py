"""The `vmevalkit` command line: one app whose subcommands live in vmevalkit/commands/.

Each module there defines `register(subparsers)`, which adds its parser and sets `func(args) -> int`.
Modules import heavy libraries (torch, ...) inside their functions so that `--help` stays fast."""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys

import vmevalkit
import vmevalkit.commands
from vmevalkit import limits
from vmevalkit.errors import UserError
from vmevalkit.secrets import scrub

ORDER = ["run", "models", "weights", "tasks", "score", "report", "review"]


def command_modules() -> list[str]:
    found = [m.name for m in pkgutil.iter_modules(vmevalkit.commands.__path__) if not m.name.startswith("_")]
    return sorted(found, key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vmevalkit", description="Ask video models to solve visual reasoning questions and score them.")
    parser.add_argument("--version", action="version", version=f"vmevalkit {vmevalkit.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in command_modules():
        importlib.import_module(f"vmevalkit.commands.{name}").register(sub)
    return parser


def _discard_stdout() -> None:
    """Point stdout at /dev/null, so that flushing it at exit does not fail on the closed pipe again."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (captured): nothing to flush into a pipe
        pass


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        limits.check_environment()
        return int(args.func(args) or 0)
    except UserError as e:
        print(f"error: {scrub(str(e))}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # whoever read the output went away (`vmevalkit report ... | head`): stop quietly
        _discard_stdout()
        return 1
    except OSError as e:  # a fault of the disk or the system (no space left, read-only, I/O error): one line
        where = f"{e.filename}: " if e.filename else ""
        print(f"error: {scrub(where + (e.strerror or str(e)))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; finished items are kept and a rerun resumes", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
