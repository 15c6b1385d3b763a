"""The models a sweep can name: the built-in registry, with parameters and a noise level D.

A sweep names a model of ``noisynoether.models._registry.MODELS`` (the command line's
registry). Without ``params`` the registry's own model is used; with ``params`` the model is
built by its function in ``nn.models`` with those keywords over the registry's defaults
(``MODEL_FUNCTIONS``). A noise level D replaces the model's diffusion tensor (a number: D = d I;
a vector: diagonal D; a matrix), keeping its drift: ``SDE(drift=model.drift, diffusion=D)``.
"""

from __future__ import annotations

import inspect

import numpy as np

from .. import models as _models
from .._sde import SDE
from ..models._registry import MODELS

__all__ = ["MODEL_FUNCTIONS", "build_model", "check_params", "param_names"]

#: name -> (the model's function in nn.models, defaults that reproduce the registry's model).
MODEL_FUNCTIONS = {
    "ou": (_models.ornstein_uhlenbeck, {"A": [[-1.0, 0.0], [0.0, -1.0]], "D": 1.0}),
    "ou-nonnormal": (
        _models.ornstein_uhlenbeck,
        {"A": [[-1.0, 3.0], [0.0, -2.0]], "D": [[0.5, 0.2], [0.2, 0.3]]},
    ),
    "drift-diffusion": (_models.drift_diffusion, {"v": 0.1, "sigma": 1.0}),
    "double-well": (_models.double_well, {"diffusion": 0.05}),
    "multistable": (_models.multistable, {}),
    "ring": (_models.ring_reverse_diffusion, {}),
}


def param_names(name: str) -> tuple[str, ...]:
    """The keywords a model accepts as ``params`` (empty when it has no function listed)."""
    if name not in MODEL_FUNCTIONS:
        return ()
    return tuple(inspect.signature(MODEL_FUNCTIONS[name][0]).parameters)


def check_params(name: str, params: dict, where: str) -> None:
    """TypeError naming ``where`` when ``params`` has a key the model's function does not take."""
    accepted = param_names(name)
    for key, value in params.items():
        if key not in accepted:
            what = (
                f"accepted: {', '.join(accepted)}"
                if accepted
                else f"the model {name!r} takes no parameters"
            )
            raise TypeError(
                f"sweep config: {where}.{key} = {value!r} is not a parameter of {name!r}; {what}"
            )


def build_model(name: str, params: dict | None = None, D=None) -> SDE:
    """The ``SDE`` of model ``name`` with ``params`` and noise level ``D`` (None: its own)."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; accepted: {', '.join(MODELS)}")
    params = dict(params or {})
    if params:
        check_params(name, params, "params")
        func, defaults = MODEL_FUNCTIONS[name]
        sde = func(**{**defaults, **params})
    else:
        sde = MODELS[name].factory()
    if D is None:
        return sde
    if not sde.is_constant_diffusion:
        raise ValueError(
            f"the model {name!r} has a diffusion that depends on t or x (the ring's is D = t); "
            f"a noise level D cannot replace it; got D = {D!r} (leave D out for this model)"
        )
    return SDE(drift=sde.drift, diffusion=np.asarray(D, dtype=np.float64))
