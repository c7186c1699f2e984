"""``python -m hmin``: the ``hmin`` command line."""

import sys

from hmin.sims.cli import main

if __name__ == "__main__":
    sys.exit(main())
