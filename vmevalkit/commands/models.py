"""`vmevalkit models`: the registered models, their kind, and whether their weights are on disk."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("models", help="list the models (id, family, kind, weights present)")
    p.add_argument("--settings", action="store_true", help="also list each model's settings and defaults")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--cache-dir", type=Path, help="weights folder to look in (default $VMEVALKIT_WEIGHTS or "
                   "~/.cache/vmevalkit/weights)")
    p.set_defaults(func=run)


def _weights_state(spec, cache_dir) -> str:
    from vmevalkit.models import weights_present

    if spec.weights is None:  # hosted models (the ones with a price) run elsewhere: no weights
        return "not needed" if spec.kind == "control" or spec.price is not None else "built in"
    return "present" if weights_present(spec.id, cache_dir) else "missing"


def run(args: argparse.Namespace) -> int:
    from vmevalkit.models import list_models, resolvers

    specs = list_models()
    rows = [{"id": s.id, "family": s.family, "kind": s.kind, "sees": list(s.sees),
             "weights": _weights_state(s, args.cache_dir), "env_vars": list(s.env_vars), "untrained": s.untrained,
             "label": s.label, "description": s.description, "settings": dict(s.defaults)} for s in specs]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    table = [("id", "family", "kind", "sees", "weights", "note")]
    for r in rows:
        table.append((r["id"], r["family"], r["kind"], "+".join(r["sees"]), r["weights"], r["label"]))
    widths = [max(len(row[i]) for row in table) for i in range(5)]
    for row in table:
        print("  ".join(c.ljust(w) for c, w in zip(row[:5], widths)) + "  " + row[5])
    print()
    for r in rows:
        print(f"{r['id']}: {r['description']}")
        if r["env_vars"]:
            print("    needs the environment variable(s): " + ", ".join(r["env_vars"]))
        if args.settings:
            print("    settings: " + ", ".join(f"{k}={v}" for k, v in r["settings"].items()))
    for prefix, help_text in resolvers().items():
        print(f"{prefix}:<{help_text}>: any such model, made on demand (e.g. --models {prefix}:...)")
    missing = [r["id"] for r in rows if r["weights"] == "missing"]
    if missing:
        print(f"\nfetch missing weights with: vmevalkit weights download <id>   ({', '.join(missing)})")
    return 0
