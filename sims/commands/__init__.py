"""Sub-commands of the ``hmin`` command line (see sims/cli.py)."""
