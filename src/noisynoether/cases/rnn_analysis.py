"""The trained decision network of ``rnn_decision`` as a noisy system: attractors, transitions,
energies, charges and escape rates (issue 12 item 7). Returns plain data; no plotting.

With the input off, the network ``xdot = -x + W tanh(x) + noise`` (D = ``D`` I) has two stable
states (the two choices, A with readout > 0 and B) and a saddle between them. ``run`` finds them
with ``fixed_points(starts=...)`` from states the trained network visits, solves the most likely
change of mind A -> B at several durations T (``most_likely_path``; at the middle duration also
``find_paths``), and in infinite time (E = 0 paths A -> saddle -> B with ``path_with_energy``:
the barrier S*(inf); in the full run also ``barrier`` and ``quasipotential`` as cross-checks),
and asks which charges hold on them (``charge_balance``): energy (Eq. 10) holds without input
and leaks when a time-dependent input pulse drives the transition; momentum along the choice
axis and the angular momentum of units 1-2 (Eqs. 15, 17) leak (no translation or rotation
symmetry). f(-x) = -f(x) (no bias) is a discrete symmetry: B -> A costs what A -> B costs.
Escape rates: the Eyring-Kramers formula (``escape_rate``) needs a gradient drift, which a
trained network is not (the call's refusal is recorded); the table gives the Arrhenius factor
exp(-S*(inf)) at several noise levels and, in the full run, Monte Carlo escape rates.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .. import (
    Symmetry,
    barrier,
    charge_balance,
    escape_rate,
    find_paths,
    find_symmetries,
    fixed_points,
    models,
    most_likely_path,
    path_with_energy,
    quasipotential,
)
from .._jit import jit
from ._common import Steps, path_summary
from .rnn_decision import TASK, task_states, train_decision_rnn

#: Diffusion of the analysed network (Eq. 5): the state noise it was trained with.
D = TASK["D_train"]
#: Noise levels of the escape table (S*(inf) scales as 1/D for a scalar D).
TABLE_D = (0.04, 0.02, 0.01, 0.005)
#: Barriers S*(inf) at which escapes are counted by Monte Carlo (D = D S*(inf) / target).
MC_BARRIERS = (2.0, 3.0, 4.0)
FULL = dict(n=16, steps=400, durations=(5.0, 10.0, 20.0, 40.0), num_points=201, mc=True)
QUICK = dict(n=16, steps=200, durations=(10.0, 40.0), num_points=101, mc=False)


def _attractors(fps, w_out):
    stable = [fp for fp in fps if fp.kind == "stable"]
    saddles = [fp for fp in fps if fp.kind == "saddle" and fp.unstable_dim == 1]
    if len(stable) < 2 or not saddles:
        raise RuntimeError(
            f"the trained network has {len(stable)} stable states and {len(saddles)} index-1 "
            "saddles; the analysis needs two choices and a saddle (train longer)"
        )
    a = max(stable, key=lambda fp: float(w_out @ np.tanh(fp.x)))
    b = min(stable, key=lambda fp: float(w_out @ np.tanh(fp.x)))
    s = min(saddles, key=lambda fp: float(np.linalg.norm(fp.x - 0.5 * (a.x + b.x))))
    return a, b, s


def _generators(a, b):
    n = a.x.size
    axis = (b.x - a.x) / np.linalg.norm(b.x - a.x)
    rot = np.zeros((n, n))
    rot[0, 1], rot[1, 0] = -1.0, 1.0
    return {
        "energy (time translation, Eq. 10)": Symmetry(
            "time", None, None, "time translation (energy, Eq. 10)", 0.0
        ),
        "momentum along B - A (Eq. 15)": (np.zeros((n, n)), axis),
        "angular momentum L_12 (Eq. 17)": (rot, np.zeros(n)),
    }


def _balances(sde, res, gens, args=None):
    out = {}
    for name, g in gens.items():
        cb = charge_balance(sde, res.ts, res.xs, g, args=args)
        scale = max(cb.scale, 1e-300)
        source = float(np.max(np.abs(cb.source)))
        out[name] = dict(
            leakage=cb.leakage,
            relative_leakage=abs(cb.leakage) / scale,
            source=source,
            residual=cb.residual,
            # the charge holds when nothing in the model moves it (the integrated change of L
            # vanishes); its leakage is then rounding (affine) or O(dt^2) (the energy)
            holds=bool(source <= 1e-9 * scale),
            charge=cb.charge,
            times=cb.times,
        )
    return out


def _monte_carlo(W, a, b, s, Ds, steps, dt=0.05, num=256, horizon=4000.0, seed=2):
    """Escape rates A -> B by Euler-Maruyama (a check of exp(-S*(inf)), independent of the solvers).

    A path has escaped when its projection on (b - a) passes the saddle's by 10% of |b - a|
    (beyond the saddle it falls into B). The rate is the maximum-likelihood estimate of an
    exponential waiting time: escapes / (total time spent before escaping or the horizon).
    """
    W = jnp.asarray(W)
    axis = (b - a) / np.linalg.norm(b - a)
    thresh = float((s - a) @ axis + 0.1 * np.linalg.norm(b - a))
    K = int(horizon / dt)
    a_j, axis_j = jnp.asarray(a), jnp.asarray(axis)

    @jit
    def first_times(keys, d):
        def one(key):
            def body(carry, k):
                x, t_hit, i = carry
                noise = jnp.sqrt(2 * d * dt) * jax.random.normal(k, x.shape)
                x = x + dt * (-x + W @ jnp.tanh(x)) + noise
                crossed = (x - a_j) @ axis_j > thresh
                t_hit = jnp.where(jnp.isinf(t_hit) & crossed, (i + 1) * dt, t_hit)
                return (x, t_hit, i + 1), None

            init = (a_j, jnp.asarray(jnp.inf), 0)
            (_, t_hit, _), _ = jax.lax.scan(body, init, jax.random.split(key, K))
            return t_hit

        return jax.vmap(one)(keys)

    rows = []
    for i, d in enumerate(Ds):
        steps(f"Monte Carlo escapes A -> B at D = {d:.4g} ({num} paths to t = {horizon:g})")
        t = np.asarray(first_times(jax.random.split(jax.random.PRNGKey(seed + i), num), d))
        esc = np.isfinite(t)
        exposure = float(np.sum(np.where(esc, t, horizon)))
        rows.append(
            dict(
                D=float(d),
                escapes=int(esc.sum()),
                paths=num,
                horizon=horizon,
                rate=float(esc.sum() / exposure),
                rate_rel_error=float(1 / np.sqrt(max(esc.sum(), 1))),
            )
        )
    return rows


def _escape_table(sde, a, s, barrier_value, mc_rows):
    """exp(-S*(inf)) at several D (S* scales as 1/D), Monte Carlo rates, escape_rate's verdict."""
    try:
        er = escape_rate(sde, a.x, s.x)
        verdict = f"rate {er.rate:.4g} (Eyring-Kramers)"
    except ValueError as err:  # a trained network is not a gradient system
        verdict = "not applicable: " + str(err).split(":")[0]
    quasi = D * barrier_value  # D S*(inf): the quasipotential barrier, independent of D
    mc = {round(r["D"], 12): r for r in mc_rows}
    rows = []
    for d in sorted({*TABLE_D, *mc}, reverse=True):
        r = mc.get(round(d, 12), {})
        rows.append(
            dict(
                D=float(d),
                barrier=quasi / d,
                arrhenius=float(np.exp(-quasi / d)),
                mc_rate=r.get("rate"),
                mc_escapes=r.get("escapes"),
                mc_paths=r.get("paths"),
            )
        )
    return {"quasipotential_barrier": quasi, "escape_rate": verdict, "rows": rows}


def num_steps(quick: bool = False) -> int:
    """How many progress lines ``run`` reports (for a progress bar)."""
    cfg = QUICK if quick else FULL
    return 6 + len(cfg["durations"]) + (0 if quick else 3) + (3 if cfg["mc"] else 0)


def run(quick: bool = False, progress=None, seed: int = 0) -> dict:
    """Train, then analyse the decision network (see the module docstring); plain data."""
    cfg = QUICK if quick else FULL
    steps = Steps(progress, "rnn")
    steps(f"training a {cfg['n']}-unit network on the decision task ({cfg['steps']} Adam steps)")
    net = train_decision_rnn(n=cfg["n"], steps=cfg["steps"], seed=seed)
    steps(
        f"trained in {net['seconds']:.1f} s: loss {net['losses'][-1]:.4f}, "
        f"accuracy {net['accuracy']:.3f}"
    )
    sde = models.noisy_rnn(net["W"], D=D)
    states = task_states(net)
    # add midpoints between states of opposite choices: transitions pass there (the saddle)
    z = np.tanh(states) @ net["w_out"]
    pos, neg = states[z > 0][:16], states[z < 0][:16]
    mids = 0.5 * (pos[: len(neg)] + neg[: len(pos)])
    starts = np.concatenate([states, mids])
    steps(f"fixed points from {len(starts)} states of simulated trials")
    fps = fixed_points(sde, starts=starts)
    a, b, s = _attractors(fps, net["w_out"])
    gens = _generators(a, b)
    K = cfg["num_points"]
    paths, summary = {}, []
    for T in cfg["durations"]:
        steps(f"most likely path A -> B at T = {T:g}")
        res = most_likely_path(sde, a.x, b.x, 0.0, T, num_points=K)
        paths[f"T={T:g}"] = res
        summary.append(path_summary(f"A -> B, T = {T:g}", res, {}))
    T_mid = cfg["durations"][len(cfg["durations"]) // 2]
    multi = None
    if not quick:
        steps(f"find_paths A -> B at T = {T_mid:g} (several starts)")
        ps = find_paths(sde, a.x, b.x, 0.0, T_mid, num_points=K, num_starts=4)
        multi = dict(actions=[float(r.action) for r in ps], best=float(ps.global_minimum.action))
    steps("infinite time: E = 0 paths A -> saddle -> B (path_with_energy)")
    up = path_with_energy(sde, a.x, s.x, 0.0, num_points=K)
    down = path_with_energy(sde, s.x, b.x, 0.0, num_points=K)
    paths["uphill"], paths["downhill"] = up, down
    summary += [
        path_summary("A -> saddle, E = 0", up, {}),
        path_summary("saddle -> B, E = 0", down, {}),
    ]
    S_inf = float(up.action + down.action)
    checks = {}
    if not quick:
        steps("cross-checks: barrier(A, B) and quasipotential(A, saddle)")
        bar = barrier(sde, a.x, b.x, num_points=K)
        checks["barrier"] = float(bar.barrier)
        checks["quasipotential_saddle"] = float(quasipotential(sde, a.x, s.x, num_points=K))
        steps("find_symmetries on the trial states")
        checks["symmetries"] = [sym.name for sym in find_symmetries(sde, states[:64])]
    steps(f"B -> A at T = {T_mid:g} (the mirror image under x -> -x)")
    back = most_likely_path(sde, b.x, a.x, 0.0, T_mid, num_points=K)
    xs_probe = states[:64]
    odd = float(
        np.max(
            np.abs(
                np.asarray(
                    jax.vmap(lambda x: sde.f(0.0, x) + sde.f(0.0, -x))(jnp.asarray(xs_probe))
                )
            )
        )
    )
    steps(f"charges along the T = {T_mid:g} path, without and with an input pulse")
    free = _balances(sde, paths[f"T={T_mid:g}"], gens)
    pulse = lambda t: 0.05 * jnp.exp(-(((t - 0.5 * T_mid) / (0.1 * T_mid)) ** 2))  # noqa: E731
    sign = -1.0 if float(net["B"] @ (b.x - a.x)) < 0 else 1.0
    driven_sde = models.noisy_rnn(net["W"], D=D, inputs=(sign * net["B"], pulse))
    driven = most_likely_path(driven_sde, a.x, b.x, 0.0, T_mid, num_points=K)
    paths["driven"] = driven
    summary.append(path_summary(f"A -> B with an input pulse, T = {T_mid:g}", driven, {}))
    driven_bal = _balances(driven_sde, driven, gens)
    mc_rows = []
    if cfg["mc"]:
        Ds = [D * S_inf / target for target in MC_BARRIERS]
        mc_rows = _monte_carlo(net["W"], a.x, b.x, s.x, Ds, steps)
    table = _escape_table(sde, a, s, S_inf, mc_rows)
    return {
        "name": "rnn",
        "quick": quick,
        "config": dict(cfg, D=D, seed=seed),
        "network": net,
        "fixed_points": fps,
        "A": a,
        "B": b,
        "saddle": s,
        "paths": paths,
        "summary": summary,
        "barrier": S_inf,
        "mirror": dict(
            action_AB=float(paths[f"T={T_mid:g}"].action),
            action_BA=float(back.action),
            odd_defect=odd,
        ),
        "find_paths": multi,
        "checks": checks,
        "charges": {"no input": free, "input pulse": driven_bal},
        "escape": table,
        "T_mid": T_mid,
    }
