"""``python -m noisynoether``: the command line (``noisynoether.cli.main``)."""

import sys

from .cli import main

sys.exit(main())
