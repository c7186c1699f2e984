"""Experiments: library functions ``run(config, outdir) -> summary`` behind ``hmin run NAME``."""
