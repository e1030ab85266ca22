#!/usr/bin/env bash
# Fetch the weights of the dynamicrafter-512 model: a thin wrapper over `vmevalkit weights download`.
# Extra arguments are passed on (e.g. --cache-dir DIR, --force). Set PYTHON to pick the interpreter.
set -euo pipefail
exec "${PYTHON:-python}" -m vmevalkit.cli weights download dynamicrafter-512 "$@"
