"""The library's ``jit`` (``_jit.py``): compile options on top-level calls, plain ``jax.jit``
inside another trace, and the same values either way."""

import jax
import jax.numpy as jnp
import numpy as np

from noisynoether import _jit


def test_options_apply_at_top_level_and_nested_calls_still_work():
    f = _jit.jit(lambda x: jnp.sin(x) * 2.0)
    x = jnp.linspace(0.0, 1.0, 5)
    expected = np.sin(np.linspace(0.0, 1.0, 5)) * 2.0
    np.testing.assert_allclose(f(x), expected, rtol=1e-15)
    # Inside a user's jit, vmap or grad the plain jax.jit is used (JAX rejects compile options
    # on nested jits): the same values, no error.
    np.testing.assert_allclose(jax.jit(lambda y: f(y) + 1.0)(x), expected + 1.0, rtol=1e-15)
    np.testing.assert_allclose(jax.vmap(f)(x), expected, rtol=1e-15)
    np.testing.assert_allclose(
        jax.grad(lambda y: jnp.sum(f(y)))(x), 2.0 * np.cos(np.linspace(0.0, 1.0, 5)), rtol=1e-14
    )
    # Closure-captured tracers only (no traced argument): still the plain jit.
    g = _jit.jit(lambda: jnp.ones(3))
    np.testing.assert_allclose(jax.jit(lambda y: g() * y)(2.0), [2.0, 2.0, 2.0])
    # The decorator form with keyword options.
    h = _jit.jit(static_argnums=(1,))(lambda y, k: y * k)
    assert float(h(3.0, 2)) == 6.0
    if jax.default_backend() == "cpu":
        assert _jit.compiler_options() in ({}, {"xla_cpu_use_fusion_emitters": False})


def test_opt_out_and_unknown_options_fall_back_to_plain_jit(monkeypatch):
    monkeypatch.setattr(_jit, "_probed", None)
    monkeypatch.setenv("NOISYNOETHER_FAST_COMPILE", "0")
    assert _jit.compiler_options() == {}
    monkeypatch.setattr(_jit, "_probed", None)
    monkeypatch.delenv("NOISYNOETHER_FAST_COMPILE")
    monkeypatch.setattr(_jit, "_CPU_OPTIONS", {"xla_no_such_option_anywhere": True})
    assert _jit.compiler_options() == {}  # the probe's compile failed: plain jax.jit
    assert float(_jit.jit(lambda y: y + 1.0)(1.0)) == 2.0
    monkeypatch.setattr(_jit, "_probed", None)  # the next use probes again


def test_a_runtime_bound_function_is_compiled_at_the_default_optimisation_level(monkeypatch):
    # The Euler-Maruyama kernel runs for seconds: it keeps LLVM's optimisation even where
    # XLA_FLAGS lowers it (the suite's fast-compile setting), as the other functions do not.
    seen = []
    real = jax.jit
    monkeypatch.setattr(_jit.jax, "jit", lambda fn, **kw: seen.append(kw) or real(fn, **kw))
    monkeypatch.setattr(_jit, "_probed", {"xla_cpu_use_fusion_emitters": False})
    assert float(_jit.jit(lambda y: y * 3.0, runtime_bound=True)(2.0)) == 6.0
    assert float(_jit.jit(lambda y: y * 3.0)(2.0)) == 6.0
    with_options = [kw["compiler_options"] for kw in seen if "compiler_options" in kw]
    assert with_options == [
        {"xla_cpu_use_fusion_emitters": False, "xla_backend_optimization_level": 3},
        {"xla_cpu_use_fusion_emitters": False},
    ]
    monkeypatch.setattr(_jit, "_probed", {})  # no options here (NOISYNOETHER_FAST_COMPILE=0)
    seen.clear()
    assert float(_jit.jit(lambda y: y * 3.0, runtime_bound=True)(2.0)) == 6.0
    assert all("compiler_options" not in kw for kw in seen)
    monkeypatch.setattr(_jit, "_probed", None)
