"""hmin: does the minimum pairwise distance h_min of the training data control how fast gradient
descent trains a neural network, and where do the field's theorems about it hold?

The public face. Everything a notebook, a script or a plug-in needs is one attribute away::

    import hmin
    hmin.min_pairwise_distance(X).h_min      # geometry
    hmin.select(X, k=100)                    # a uniform subset with its certificate
    hmin.train_and_measure(model, X, Y)      # GD with the theory's diagnostics
    hmin.model_kernel(model, X)              # the closed-form infinite-width NTK (hmin.kernels)
    hmin.run_verify(only="T1")               # the report card, from a library call

Names are imported on first use, so ``import hmin`` costs nothing (no JAX, no sympy) until one is
touched. The subpackages are ``hmin.theory`` (statements and their symbolic sides; sympy and NumPy
only, never JAX) and ``hmin.sims`` (measurements on GD trajectories, JAX). The command line is
``hmin`` or ``python -m hmin``.

    >>> import hmin
    >>> hmin.__version__ == hmin.version()
    True
"""

from __future__ import annotations

import importlib

__all__ = [
    "__version__", "version",
    # statements and checks
    "Statement", "STATEMENTS", "Check", "CheckContext", "registry", "run_verify",
    # errors
    "HminError", "InputError", "DivergedError", "PluginError",
    # training with diagnostics
    "train_and_measure", "TrainConfig", "TrainResult", "GDConfig", "train", "make_model", "Model",
    # geometry and selection
    "min_pairwise_distance", "fill_distance", "mesh_ratio", "geometry_summary", "load_points",
    "select", "greedy_maxmin", "maxmin_certificate", "Selection",
    # data
    "PointSet", "planted_pair",
    # closed-form infinite-width kernels and the empirical Gram
    "kernels", "shallow_kernel", "mlp_kernel", "model_kernel", "arccos_kernel", "gram",
]

#: public name -> the module that defines it
_LAZY = {
    "Statement": "hmin.theory", "STATEMENTS": "hmin.theory", "PluginError": "hmin.theory.errors",
    "HminError": "hmin.theory.errors", "InputError": "hmin.theory.errors",
    "DivergedError": "hmin.sims.errors",
    "Check": "hmin.sims.registry", "CheckContext": "hmin.sims.registry", "registry": "hmin.sims.registry",
    "run_verify": "hmin.sims.verify",
    "train_and_measure": "hmin.sims.train", "TrainConfig": "hmin.sims.train", "TrainResult": "hmin.sims.train",
    "GDConfig": "hmin.sims.gd", "train": "hmin.sims.gd",
    "make_model": "hmin.sims.models", "Model": "hmin.sims.models",
    "min_pairwise_distance": "hmin.sims.geometry", "fill_distance": "hmin.sims.geometry",
    "mesh_ratio": "hmin.sims.geometry", "geometry_summary": "hmin.sims.geometry", "load_points": "hmin.sims.geometry",
    "select": "hmin.sims.select", "greedy_maxmin": "hmin.sims.select", "maxmin_certificate": "hmin.sims.select",
    "Selection": "hmin.sims.select",
    "PointSet": "hmin.sims.data", "planted_pair": "hmin.sims.data",
    "shallow_kernel": "hmin.sims.kernels", "mlp_kernel": "hmin.sims.kernels", "model_kernel": "hmin.sims.kernels",
    "arccos_kernel": "hmin.sims.kernels", "gram": "hmin.sims.diagnostics",
}


def version() -> str:
    """The installed version of hmin (from the distribution's metadata; ``"0+unknown"`` if not installed)."""
    from importlib import metadata

    try:
        return metadata.version("hmin-toolkit")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def __getattr__(name: str):
    if name == "__version__":
        return version()
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in ("sims", "theory"):
        return importlib.import_module(f"hmin.{name}")
    if name == "kernels":
        return importlib.import_module("hmin.sims.kernels")
    raise AttributeError(f"module 'hmin' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__) | {"sims", "theory"})
