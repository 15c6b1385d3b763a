"""Every input check, one rule per concept: errors name the argument, the value, what is accepted.

Used by every public entry point (``check_endpoints``, ``check_time_grid``, ``check_positive``,
``check_choice``, ``check_model_at``, ...). Messages follow lineax: the cause, then the fix.
One import place (``from noisynoether._checks import ...``), three files by concept:
``_values`` (numbers, choices, flags, keys, memory), ``_arrays`` (states, grids, paths, points,
boxes, generators) and ``_model`` (the user's drift and diffusion, traced as the solvers trace
them, with the one jax.numpy message); ``_dynamics`` checks what a formula needs of the drift
(a stable fixed point, autonomy, a gradient structure).
"""

from ._arrays import (  # noqa: F401
    as_generator,
    as_matrix,
    as_path,
    as_points,
    as_state,
    as_time_grid,
    as_times,
    as_vector,
    check_box,
    check_endpoints,
    check_time_grid,
    default_box,
    grid,
    make_time_grid,
)
from ._dynamics import (  # noqa: F401
    check_autonomous_drift,
    check_fixed_point,
    check_gradient_drift,
    check_stable_fixed_point,
    drift_and_jacobian,
    drift_at,
    sample_around,
)
from ._model import (  # noqa: F401
    _PARTS,
    _TRACE_ERRORS,
    JAX_NUMPY_HINT,
    _check_diffusion_on,
    _check_model,
    _check_psd_on,
    _drift_on_points,
    _evaluate,
    _first_line,
    _on_points,
    _real,
    check_autonomous,
    check_model_at,
    check_model_on_path,
    check_sample,
    explain_trace_error,
    untraceable_message,
)
from ._values import (  # noqa: F401
    MAX_MEMORY,
    _short,
    check_bool,
    check_choice,
    check_key,
    check_memory,
    check_positive,
    check_real,
    check_sde,
    check_tol,
)
