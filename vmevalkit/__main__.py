"""`python -m vmevalkit ...` is the `vmevalkit` command."""

import sys

from vmevalkit.cli import main

sys.exit(main())
