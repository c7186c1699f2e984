"""Quantities shared by several statements: the unit-ball volume V_d, the common sympy symbols."""

from __future__ import annotations

import numpy as np
import sympy as sp
from scipy import special

from hmin.theory._core import as_float_array

__all__ = ["unit_ball_volume", "unit_ball_volume_sym", "SYM"]


class _Symbols:
    """The sympy symbols of the notation (docs/statements.md), with the assumptions the statements make."""

    r = sp.Symbol("r", positive=True)  # a distance
    N = sp.Symbol("N", positive=True, integer=True)  # number of points
    d = sp.Symbol("d", positive=True, integer=True)  # ambient dimension
    pi_max = sp.Symbol("pi_max", positive=True)  # upper bound of the density
    pi_bar = sp.Symbol("pi_bar", positive=True)  # lower bound of the density on Omega'
    p_prime = sp.Symbol("p_prime", positive=True)  # P(x_1 in Omega')
    delta = sp.Symbol("delta", positive=True)  # failure probability
    eta = sp.Symbol("eta", positive=True)  # learning rate
    beta = sp.Symbol("beta", positive=True)  # local smoothness
    mu = sp.Symbol("mu", positive=True)  # PL constant
    lam = sp.Symbol("lambda", nonnegative=True)  # an eigenvalue of G
    eps = sp.Symbol("epsilon", positive=True)  # the tau_eps parameter
    t = sp.Symbol("t", positive=True)  # step count / ray parameter
    L_x = sp.Symbol("L_x", positive=True)  # x-Lipschitz constant of grad_theta f
    h = sp.Symbol("h", positive=True)  # a pairwise distance


#: the sympy symbols of the notation (``SYM.N``, ``SYM.h``, ``SYM.mu``, ...) with their assumptions.
SYM = _Symbols()


def unit_ball_volume_sym(d: sp.Expr | int = SYM.d) -> sp.Expr:
    """V_d = pi^{d/2} / Gamma(d/2 + 1) as a sympy expression (symbolic d by default).

    Example:
        >>> unit_ball_volume_sym(3)
        4*pi/3
    """
    d = sp.sympify(d)
    return sp.pi ** (d / 2) / sp.gamma(d / 2 + 1)


def unit_ball_volume(d):
    """Volume of the unit ball in R^d, V_d = pi^{d/2} / Gamma(d/2 + 1), vectorised over d.

    Computed as exp((d/2) log pi - log Gamma(d/2 + 1)) so that large d does not overflow.

    Args:
        d: dimension(s), positive (integers in every use here; the formula is defined for real d).

    Returns:
        float64 array of d's shape (a 0-d array for a scalar d).

    Example:
        >>> float(unit_ball_volume(2))  # pi
        3.141592653589793
    """
    d = as_float_array("d", d, positive=True)
    return np.exp(0.5 * d * np.log(np.pi) - special.gammaln(0.5 * d + 1.0))
