"""`python -m vmevalkit.run ...` is `vmevalkit run ...`, the command VMEvalKit users know."""

import sys

from vmevalkit.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", *sys.argv[1:]]))
