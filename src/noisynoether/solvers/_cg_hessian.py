"""The gradient of the discrete action written so that its derivative is cheap (Newton-CG).

On each interval the action is ``phi(r, y) = dt/4 r^T D(t_m, y)^-1 r`` with the residual
``r = (x_b - x_a)/dt - f(t_m, y)`` and the midpoint ``y = (x_a + x_b)/2`` (Eq. 8). The
gradient here applies the drift's transposed Jacobian once, to the total derivative
``g_r = dphi/dr``:

    dS/dy = dphi/dy - J_f(y)^T g_r,   dS/dx_b = g_r/dt + dS/dy / 2,   dS/dx_a = -g_r/dt + dS/dy / 2.

Differentiating ``jax.grad`` of the action instead differentiates ``r^T (D^-1 r)`` along both
factors and applies ``J_f^T`` twice; forward-over-reverse then recomputes the gradient (the
primal) at every Hessian-vector product. ``jax.linearize`` of this gradient, taken once per
point, leaves a linear map that costs one ``J_f`` and one ``J_f^T`` product (two matrix
products with W for a rate network) per Hessian-vector product: about half the work.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from . import _assemble


def _phi(sde, args):
    def phi(t_a, t_b, r, y):  # the interval action as a function of residual and midpoint
        dt = t_b - t_a
        u = sde.D_inv_apply(0.5 * (t_a + t_b), y, r, args)
        q = jnp.vdot(r, u)
        bad = q < -1e-10 * jnp.linalg.norm(r) * jnp.linalg.norm(u)  # as _lagrangian.interval_term
        return 0.25 * dt * jnp.where(bad, jnp.inf, q)

    return phi


def gradient_function(sde, ts, xa, xb, args):
    """x_int (M, n) -> dS/dx_int (M, n), the exact gradient of the midpoint action."""
    ta, tb = ts[:-1], ts[1:]
    dt = (tb - ta)[:, None]
    tm = 0.5 * (ta + tb)
    grad_phi = jax.vmap(jax.grad(_phi(sde, args), argnums=(2, 3)))

    def drift(y):
        return jax.vmap(lambda t, x: sde.f(t, x, args))(tm, y)

    def gradient(x_int):
        xs = _assemble.full_path(x_int, xa, xb)
        y = 0.5 * (xs[1:] + xs[:-1])
        fy, f_vjp = jax.vjp(drift, y)
        g_r, g_y = grad_phi(ta, tb, (xs[1:] - xs[:-1]) / dt - fy, y)
        dy = 0.5 * (g_y - f_vjp(g_r)[0])
        return (g_r / dt + dy)[:-1] + (dy - g_r / dt)[1:]

    return gradient


def hessian_operator(sde, ts, x_int, xa, xb, args):
    """v (M, n) -> H v at x_int: the linearised gradient (primal computed once, here)."""
    return jax.linearize(gradient_function(sde, ts, xa, xb, args), x_int)[1]
