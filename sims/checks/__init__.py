"""Numeric side of each statement of THEORY.md: one module per statement, ``check(preset, outdir, key) -> Verdict``."""
