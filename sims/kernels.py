"""Closed-form infinite-width kernels (NNGP and NTK) of hmin's own models, in float64.

Conventions (the same as `hmin.sims.models`, so a closed form here is the limit of `sims.diagnostics.gram`
of the model with the same name, at growing width):

* weights N(0, 1), no biases, every matrix product divided by sqrt(fan_in) (NTK parameterisation);
* ``shallow``: f(x) = a^T sigma(W x / sqrt(d)) / sqrt(m) (W of shape (m, d) in this notation; hmin stores
  its transpose, ``X @ W``). The pre-activation covariance is Sigma(x, x') = <x, x'> / d;
* ``mlp`` (depth L): z_1 = sigma(W_1 x / sqrt(d)), z_l = sigma(W_l z_{l-1} / sqrt(m)), f = w^T z_L / sqrt(m).

With (u, u') ~ N(0, [[Sigma(x, x), Sigma(x, x')], [Sigma(x, x'), Sigma(x', x')]]), write
``E_sigma = E[sigma(u) sigma(u')]`` and ``Edot_sigma = E[sigma'(u) sigma'(u')]``. Then, for ``shallow``:

* NNGP (the covariance of f at initialisation; also the NTK block of the output weights ``a``):
  K(x, x') = E_sigma;
* NTK block of the first layer ``W``: Sigma(x, x') Edot_sigma;
* NTK: the sum of the two.

For ``mlp`` the standard recursion (Jacot et al. 2018; Arora et al. 2019, "On exact computation"), in
hmin's scaling (no factor 2 for ReLU, so norms halve per ReLU layer):
Sigma_1 = <x, x'>/d,  Theta_1 = Sigma_1;  Sigma_{l+1} = E_sigma[Sigma_l],
Theta_{l+1} = Sigma_{l+1} + Theta_l Edot_sigma[Sigma_l] (l = 1..L); NNGP = Sigma_{L+1}, NTK = Theta_{L+1}.
``mlp`` with depth 1 is ``shallow``.

The closed forms of E_sigma and Edot_sigma (a = Sigma(x,x), b = Sigma(x',x'), c = Sigma(x,x'),
cos theta = c / sqrt(a b)):

* ReLU (arc-cosine kernels of degree 1 and 0, Cho & Saul 2009; `arccos_kernel`):
  E = sqrt(a b) (sin theta + (pi - theta) cos theta) / (2 pi),  Edot = (pi - theta) / (2 pi);
* erf (Williams 1997): E = (2/pi) arcsin(2c / sqrt((1 + 2a)(1 + 2b))),
  Edot = (4/pi) / sqrt((1 + 2a)(1 + 2b) - 4c^2).

The angle theta is computed from differences (theta = 2 arcsin(||x^ - x'^|| / 2) on the normalised vectors),
never from arccos of a dot product, so close pairs keep their precision (docs: no ||x||^2 + ||y||^2 - 2 x.y).

Every function is pure JAX, vmapped over pairs, jitted (one compiled program per input shape and options, not
one per array operation of an eager call), and returns float64 (inputs are cast); the kernels are positive
semidefinite matrices of shape (N1, N2).

Example:
    >>> import numpy as np
    >>> K = shallow_kernel(np.eye(2), activation="relu", get="ntk")
    >>> np.round(np.asarray(K), 6).tolist()
    [[0.5, 0.079577], [0.079577, 0.5]]
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from hmin.sims.errors import InputError

__all__ = [
    "KERNEL_ACTIVATIONS",
    "GETS",
    "arccos_kernel",
    "dual",
    "shallow_kernel",
    "mlp_kernel",
    "model_kernel",
]

#: what a kernel function can return: the NNGP, the NTK, or the shallow net's NTK block of one layer
GETS = ("nngp", "ntk", "ntk_first_layer", "ntk_last_layer")


def _angle(x, y):
    """Angle between x and y from the distance of the normalised vectors (accurate near 0 and pi)."""
    nx, ny = jnp.linalg.norm(x), jnp.linalg.norm(y)
    ux, uy = x / jnp.where(nx > 0, nx, 1.0), y / jnp.where(ny > 0, ny, 1.0)
    dist = jnp.linalg.norm(ux - uy)
    return 2.0 * jnp.arcsin(jnp.clip(dist / 2.0, 0.0, 1.0))


def _relu_dual(a, b, c, theta):
    s = jnp.sqrt(a * b)
    E = s * (jnp.sin(theta) + (jnp.pi - theta) * jnp.cos(theta)) / (2 * jnp.pi)
    Ed = (jnp.pi - theta) / (2 * jnp.pi)
    return E, Ed


def _erf_dual(a, b, c, theta):
    q = (1 + 2 * a) * (1 + 2 * b)
    E = (2 / jnp.pi) * jnp.arcsin(jnp.clip(2 * c / jnp.sqrt(q), -1.0, 1.0))
    Ed = (4 / jnp.pi) / jnp.sqrt(q - 4 * c * c)
    return E, Ed


#: activation name -> (E_sigma, Edot_sigma) as functions of (a, b, c, theta); the activations with a closed form
KERNEL_ACTIVATIONS = {"relu": _relu_dual, "erf": _erf_dual}


def _dual_fn(activation: str):
    if activation not in KERNEL_ACTIVATIONS:
        raise InputError(f"no closed-form kernel for activation {activation!r}; choose from {sorted(KERNEL_ACTIVATIONS)}")
    return KERNEL_ACTIVATIONS[activation]


def dual(a, b, c, theta, *, activation: str = "relu"):
    """(E[sigma(u) sigma(u')], E[sigma'(u) sigma'(u')]) for (u, u') ~ N(0, [[a, c], [c, b]]).

    Args:
        a, b: the variances of u and u'; c: their covariance; theta: the angle, cos theta = c / sqrt(a b)
            (passed separately so callers can compute it accurately from differences).
        activation: "relu" or "erf" (`KERNEL_ACTIVATIONS`).

    Returns:
        The pair of arrays (E_sigma, Edot_sigma), broadcast over the inputs.

    Example:
        >>> import numpy as np
        >>> [round(float(v), 6) for v in dual(1.0, 1.0, 0.0, np.pi / 2)]       # ReLU, orthogonal, unit variance
        [0.159155, 0.25]
    """
    return _dual_fn(activation)(jnp.asarray(a, jnp.float64), jnp.asarray(b, jnp.float64),
                                jnp.asarray(c, jnp.float64), jnp.asarray(theta, jnp.float64))


def _pairwise(fn, X1, X2):
    return jax.vmap(lambda x: jax.vmap(lambda y: fn(x, y))(X2))(X1)


def _prep(X1, X2):
    """The inputs as arrays a jitted kernel takes (JAX arrays and tracers as they are, anything else as float64
    NumPy; the cast to float64 happens inside the jitted function), with their shapes checked."""
    X1 = X1 if isinstance(X1, jax.Array) else np.asarray(X1, np.float64)
    X2 = X1 if X2 is None else X2 if isinstance(X2, jax.Array) else np.asarray(X2, np.float64)
    if X1.ndim != 2 or X2.ndim != 2 or X1.shape[1] != X2.shape[1]:
        raise InputError(f"kernel inputs must be (N, d) arrays with one d; got shapes {X1.shape} and {X2.shape}")
    return X1, X2


def _f64(X1, X2):
    return jnp.asarray(X1, jnp.float64), jnp.asarray(X2, jnp.float64)


def arccos_kernel(X1, X2=None, *, degree: int = 1):
    """The arc-cosine kernel of Cho & Saul (2009): k_n(x, y) = (1/pi) ||x||^n ||y||^n J_n(theta).

    J_0 = pi - theta and J_1 = sin theta + (pi - theta) cos theta; equivalently
    k_n(x, y) = 2 E_w[relu(w.x)^n relu(w.y)^n] (with step(.) for n = 0), w ~ N(0, I).

    Args:
        X1: (N1, d) points; X2: (N2, d) points (default X1).
        degree: 0 or 1.

    Returns:
        (N1, N2) float64 array.

    Example (the published values at theta = 0, pi/2, pi for unit vectors):
        >>> import numpy as np
        >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
        >>> np.round(np.asarray(arccos_kernel(X[:1], X, degree=0)), 6).tolist()
        [[1.0, 0.5, 0.0]]
        >>> np.round(np.asarray(arccos_kernel(X[:1], X, degree=1)), 6).tolist()
        [[1.0, 0.31831, 0.0]]
    """
    if degree not in (0, 1):
        raise InputError(f"arc-cosine kernel degree must be 0 or 1, got {degree}")
    return _arccos(*_prep(X1, X2), degree=int(degree))


@functools.partial(jax.jit, static_argnames=("degree",))
def _arccos(X1, X2, *, degree: int):
    X1, X2 = _f64(X1, X2)

    def k(x, y):
        t = _angle(x, y)
        if degree == 0:
            return (jnp.pi - t) / jnp.pi
        return jnp.linalg.norm(x) * jnp.linalg.norm(y) * (jnp.sin(t) + (jnp.pi - t) * jnp.cos(t)) / jnp.pi

    return _pairwise(k, X1, X2)


def _check_get(get):
    names = (get,) if isinstance(get, str) else tuple(get)
    bad = [g for g in names if g not in GETS]
    if bad or not names:
        raise InputError(f"unknown kernel {bad or get!r}; choose from {', '.join(GETS)}")
    return names


def shallow_kernel(X1, X2=None, *, activation: str = "relu", get: str | Sequence[str] = "ntk"):
    """Infinite-width kernels of hmin's ``shallow`` net f(x) = a^T sigma(W x / sqrt(d)) / sqrt(m).

    Args:
        X1: (N1, d) points; X2: (N2, d) points (default X1).
        activation: "relu" or "erf".
        get: "nngp" (= "ntk_last_layer": the block of a), "ntk_first_layer" (the block of W) or "ntk"
            (their sum), or a tuple of them.

    Returns:
        An (N1, N2) float64 array, or a tuple of them when ``get`` is a tuple. For k outputs the
        empirical Gram is this kernel (Kronecker) the k x k identity.

    Example:
        >>> import numpy as np
        >>> nngp, ntk = shallow_kernel(np.eye(3), activation="erf", get=("nngp", "ntk"))  # (2/pi) arcsin(0.4) on the diagonal
        >>> round(float(nngp[0, 0]), 6), round(float(ntk[0, 1]), 6)
        (0.26198, 0.0)
    """
    names = _check_get(get)
    _dual_fn(activation)  # an unknown activation is an InputError here, before tracing
    res = _shallow(*_prep(X1, X2), activation=activation, names=names)
    return res[0] if isinstance(get, str) else res


@functools.partial(jax.jit, static_argnames=("activation", "names"))
def _shallow(X1, X2, *, activation: str, names: tuple[str, ...]):
    fn = _dual_fn(activation)
    X1, X2 = _f64(X1, X2)
    d = X1.shape[1]

    def k(x, y):
        a, b, c = x @ x / d, y @ y / d, x @ y / d
        E, Ed = fn(a, b, c, _angle(x, y))
        first = c * Ed
        return {"nngp": E, "ntk_last_layer": E, "ntk_first_layer": first, "ntk": E + first}

    out = _pairwise(k, X1, X2)
    return tuple(out[g] for g in names)


def mlp_kernel(X1, X2=None, *, depth: int, activation: str = "relu", get: str | Sequence[str] = "ntk"):
    """Infinite-width NNGP and NTK of hmin's ``mlp`` (depth L hidden layers) by the standard recursion.

    Sigma_1 = <x, x'>/d, Theta_1 = Sigma_1; for l = 1..L: Sigma_{l+1} = E_sigma[Sigma_l],
    Theta_{l+1} = Sigma_{l+1} + Theta_l Edot_sigma[Sigma_l]. NNGP = Sigma_{L+1}, NTK = Theta_{L+1}.
    The angle at every layer is carried accurately for close pairs (ReLU: cos theta_{l+1} is a function of
    theta_l, computed as 1 - cos theta_{l+1} = ((theta_l - sin theta_l) + (pi - theta_l) 2 sin^2(theta_l / 2)) / pi).

    Args:
        X1: (N1, d); X2: (N2, d) (default X1).
        depth: the number L of hidden layers (>= 1; depth 1 is `shallow_kernel`).
        activation: "relu" or "erf".
        get: "nngp", "ntk" or a tuple of them.

    Returns:
        (N1, N2) float64 array(s).

    Example:
        >>> import numpy as np
        >>> X = np.array([[1.0, 0.0], [0.6, 0.8]])
        >>> bool(np.allclose(mlp_kernel(X, depth=1), shallow_kernel(X)))
        True
    """
    names = _check_get(get)
    if any(g.startswith("ntk_") for g in names):
        raise InputError("mlp_kernel gives 'nngp' and 'ntk' (the per-layer blocks only for shallow_kernel)")
    if int(depth) != depth or depth < 1:
        raise InputError(f"depth must be a positive integer, got {depth}")
    _dual_fn(activation)  # an unknown activation is an InputError here, before tracing
    res = _mlp(*_prep(X1, X2), depth=int(depth), activation=activation, names=names)
    return res[0] if isinstance(get, str) else res


@functools.partial(jax.jit, static_argnames=("depth", "activation", "names"))
def _mlp(X1, X2, *, depth: int, activation: str, names: tuple[str, ...]):
    fn = _dual_fn(activation)
    X1, X2 = _f64(X1, X2)
    d = X1.shape[1]

    def k(x, y):
        a, b, c = x @ x / d, y @ y / d, x @ y / d
        th = _angle(x, y)
        ntk = c
        for _ in range(depth):
            E, Ed = fn(a, b, c, th)
            if activation == "relu":
                # the next layer's variances and angle, without losing small angles to round-off
                one_minus_cos = ((th - jnp.sin(th)) + (jnp.pi - th) * 2 * jnp.sin(th / 2) ** 2) / jnp.pi
                a, b = a / 2, b / 2
                th = 2 * jnp.arcsin(jnp.clip(jnp.sqrt(jnp.maximum(one_minus_cos, 0.0) / 2), 0.0, 1.0))
            else:
                Ea, _ = fn(a, a, a, 0.0)
                Eb, _ = fn(b, b, b, 0.0)
                a, b = Ea, Eb
                cos = jnp.clip(E / jnp.sqrt(a * b), -1.0, 1.0)
                th = jnp.arccos(cos)
            ntk = E + ntk * Ed
            c = E
        return {"nngp": c, "ntk": ntk}

    out = _pairwise(k, X1, X2)
    return tuple(out[g] for g in names)


def model_kernel(model, X1, X2=None, *, get: str | Sequence[str] = "ntk"):
    """The closed-form infinite-width kernel of an hmin `sims.models.Model` (``shallow`` or ``mlp``).

    Reads the architecture, depth and activation from ``model.config``; its width is ignored (the limit).

    Args:
        model: a ``shallow`` or ``mlp`` model with activation "relu" (or an "erf" activation, when a model
            offers one).
        X1, X2, get: as in `shallow_kernel` / `mlp_kernel`.

    Returns:
        (N1, N2) float64 array(s); `sims.diagnostics.gram` of the model at width m is within O(1/sqrt(m)).

    Example:
        >>> import numpy as np
        >>> from hmin.sims.models import shallow
        >>> K = model_kernel(shallow(2, 64, activation="relu"), np.eye(2))
        >>> round(float(K[0, 1]), 6)
        0.079577
    """
    act = model.config.get("activation")
    if model.name == "shallow":
        return shallow_kernel(X1, X2, activation=act, get=get)
    if model.name == "mlp":
        return mlp_kernel(X1, X2, depth=model.config["depth"], activation=act, get=get)
    raise InputError(f"no closed-form kernel for architecture {model.name!r}; shallow and mlp have one")
