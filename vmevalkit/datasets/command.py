"""`vmevalkit tasks import NAME --out DIR`: the parser and the command."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_import_parser(actions) -> None:
    """Add `import` to the actions of `vmevalkit tasks`."""
    from vmevalkit.datasets import SOURCES

    sets = "\n".join(f"  {s.name:<21} {s.description} ({s.repo_id}; licence: {s.licence})" for s in SOURCES.values())
    p = actions.add_parser(
        "import", help="download an external question set from the Hugging Face Hub as question folders",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Download a question set from the Hugging Face Hub (only the files it needs, into the Hub's "
                    "cache; resumable) and convert it into VMEvalKit question folders OUT/<domain>_task/<id>/ whose "
                    "question_metadata.json records the source, licence, commit, original id and answer. A rerun "
                    "skips the questions already converted from the same commit.\n\nsets:\n" + sets)
    p.add_argument("name", metavar="NAME", help="the question set: " + ", ".join(SOURCES))
    p.add_argument("--out", type=Path, required=True, help="folder to write <domain>_task/<id>/ folders into")
    p.add_argument("--cache-dir", type=Path, help="the Hub cache to download into (default: the Hub's own, "
                   "$HF_HUB_CACHE or ~/.cache/huggingface/hub)")
    p.add_argument("--revision", help="a branch, tag or commit of the set's repository (default: main)")
    p.add_argument("--limit", type=int, help="only the first N questions of the set")
    p.set_defaults(func=run_import)


def run_import(args: argparse.Namespace) -> int:
    from vmevalkit.datasets import get_source
    from vmevalkit.datasets.importing import import_set

    summary = import_set(get_source(args.name), args.out, cache_dir=args.cache_dir, revision=args.revision,
                         limit=args.limit)
    for line in summary.lines():
        print(line, file=sys.stderr if line.startswith("skipped ") else sys.stdout)
    return 1 if summary.problems else 0
