"""Fetching a data set's files from the Hugging Face Hub into its cache, resumably, with the commit they came from."""

from __future__ import annotations

import re
from pathlib import Path

from vmevalkit.errors import UserError

_COMMIT = re.compile(r"[0-9a-f]{40}")


def download_snapshot(repo_id: str, allow_patterns: tuple[str, ...], cache_dir: Path | None, revision: str | None,
                      rerun: str) -> tuple[Path, str | None]:
    """The snapshot folder holding the repository's files that match `allow_patterns`, and its commit.

    Files go into the Hub's cache (`cache_dir`, else the Hub's default, `$HF_HUB_CACHE`); a file already there
    is not fetched again and an interrupted one resumes. With HF_HUB_OFFLINE=1 only the cache is used. Any
    failure (no network, no such repository or revision, a full disk) is one UserError that says to rerun
    `rerun`."""
    from huggingface_hub import snapshot_download

    try:
        folder = snapshot_download(repo_id, repo_type="dataset", revision=revision, cache_dir=cache_dir,
                                   allow_patterns=list(allow_patterns))
    except Exception as e:  # network, offline with an empty cache, auth, disk: one clear line, no traceback
        detail = str(e).strip().splitlines()[0].rstrip(".") if str(e).strip() else ""
        raise UserError(f"downloading the data set {repo_id} from the Hugging Face Hub failed: {type(e).__name__}"
                        f"{': ' + detail if detail else ''}; check the network (or HF_ENDPOINT / HF_TOKEN; "
                        f"HF_HUB_OFFLINE=1 uses only the cache) and rerun `{rerun}`, which resumes") from e
    folder = Path(folder)
    # the cache keeps each snapshot in snapshots/<commit>/, so its name is the commit the files came from
    return folder, folder.name if _COMMIT.fullmatch(folder.name) else None
