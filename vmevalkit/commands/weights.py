"""`vmevalkit weights download|list|path|convert`: fetch, find and convert model checkpoints."""

from __future__ import annotations

import argparse
from pathlib import Path

from vmevalkit.errors import UserError

CACHE_HELP = "weights folder (default $VMEVALKIT_WEIGHTS, else ~/.cache/vmevalkit/weights)"


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("weights", help="download, list, locate or convert model weights")
    sub = p.add_subparsers(dest="weights_command", metavar="ACTION", required=True)
    d = sub.add_parser("download", help="fetch a model's checkpoint or diffusers snapshot from the Hugging Face Hub "
                       "(resumes)")
    d.add_argument("model", help="model id (see `vmevalkit models`)")
    d.add_argument("--cache-dir", type=Path, help=CACHE_HELP)
    d.add_argument("--force", action="store_true", help="download again even if the file is present")
    d.set_defaults(func=download)
    ls = sub.add_parser("list", help="models with weights: source, where they go, present or not, sha256")
    ls.add_argument("--cache-dir", type=Path, help=CACHE_HELP)
    ls.set_defaults(func=list_weights)
    pa = sub.add_parser("path", help="print where a model's checkpoint is (exit 2, with the fix, when it is missing)")
    pa.add_argument("model")
    pa.add_argument("--cache-dir", type=Path, help=CACHE_HELP)
    pa.set_defaults(func=path)
    c = sub.add_parser("convert", help="convert a trusted .ckpt to .safetensors (loads without pickle)")
    c.add_argument("checkpoint", type=Path)
    c.add_argument("--out", type=Path, help="output file (default: beside the input, with .safetensors)")
    c.set_defaults(func=convert)


def _weights_spec(args: argparse.Namespace):
    """The weights spec of `args.model`; `args.model` becomes the registered id (a `diffusers:<repo>` reference
    is registered under its slug, which names its weights folder)."""
    from vmevalkit.models import get_spec

    spec = get_spec(args.model)
    if spec.weights is None:
        raise UserError(f"{args.model} has no weights to download ({spec.description.split('.')[0]})")
    args.reference, args.model = args.model, spec.id
    return spec.weights


def download(args: argparse.Namespace) -> int:
    from vmevalkit import weights

    from vmevalkit.jsonfile import json_object_or_none

    spec = _weights_spec(args)
    if isinstance(spec, weights.SnapshotSpec):
        where = weights.snapshot_cache(args.cache_dir) or "the Hugging Face cache (HF_HOME)"
        print(f"fetching {spec.source} for {args.model} into {where}")
        folder = weights.download(args.model, spec, args.cache_dir, force=args.force, reference=args.reference)
        record = json_object_or_none(weights.weights_path(args.model, spec, args.cache_dir)) or {}
        print(f"{args.model}: {folder} ({len(record.get('files', []))} files, {record.get('size', 0) / 1e9:.2f} GB, "
              f"commit {record.get('commit')})")
        return 0
    print(f"fetching {spec.source} for {args.model} into {weights.weights_root(args.cache_dir) / args.model}")
    path = weights.download(args.model, spec, args.cache_dir, force=args.force)
    record = weights.read_record(path) or {}
    check = "matches the Hub's" if record.get("hub_sha256") else "not checked: the Hub gave no sha256"
    print(f"{args.model}: {path} ({record.get('size', 0) / 1e9:.2f} GB, sha256 {record.get('sha256')}, {check})")
    return 0


def list_weights(args: argparse.Namespace) -> int:
    from vmevalkit import weights
    from vmevalkit.models import list_models

    for spec in list_models():
        if spec.weights is None:
            continue
        found = weights.find_weights(spec.id, spec.weights, args.cache_dir)
        where = weights.weights_path(spec.id, spec.weights, args.cache_dir)
        state = f"present {found}" if found else (f"missing (would go to {where})" if isinstance(
            spec.weights, weights.WeightsSpec) else f"missing (no finished download recorded at {where})")
        if isinstance(spec.weights, weights.WeightsSpec):
            record = weights.read_record(found) if found else None
            print(f"{spec.id}: {spec.weights.repo_id}/{spec.weights.filename}: {state}"
                  + (f" sha256 {record['sha256']}" if record else ""))
        else:
            revision = weights.weights_revision(spec.id, spec.weights, args.cache_dir) if found else None
            print(f"{spec.id}: {spec.weights.source}: {state}" + (f" commit {revision}" if revision else ""))
    return 0


def path(args: argparse.Namespace) -> int:
    from vmevalkit import weights

    spec = _weights_spec(args)
    found = weights.find_weights(args.model, spec, args.cache_dir)
    if found is None:
        raise UserError(f"{args.model}: no weights at {weights.weights_path(args.model, spec, args.cache_dir)}; "
                        f"fetch them with: {weights.fetch_command(args.model, args.cache_dir)}")
    print(found)
    return 0


def convert(args: argparse.Namespace) -> int:
    from vmevalkit import weights

    out = weights.convert(args.checkpoint, args.out)
    record = weights.read_record(out) or {}
    print(f"wrote {out} (sha256 {record.get('sha256')})")
    return 0
