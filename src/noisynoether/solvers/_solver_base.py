"""The base of the solver objects (``Newton``, ``NewtonCG``, ``Geometric``, ``Shooting``).

A solver object is a frozen dataclass holding one solver's options, validated once (in
``__post_init__``, with the checks of ``_checks.py``). Entry points take it as ``solver=``;
their old option keywords (``rtol=``, ``max_steps=``, ...) are applied to it by ``configure``,
so every option list is written once, on its class.
"""

from __future__ import annotations

import dataclasses

from .._checks import check_positive

__all__ = ["SolverBase", "configure"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class SolverBase:
    """Common behaviour: ``replace``, ``options``, keyword checking."""

    @classmethod
    def option_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    @property
    def options(self) -> dict:
        """The options as a dict."""
        return {name: getattr(self, name) for name in self.option_names()}

    def replace(self, **changes):
        """A copy with some options changed (validated again); unknown names: TypeError."""
        unknown = sorted(set(changes) - set(self.option_names()))
        if unknown:
            raise TypeError(
                f"{type(self).__name__} has no option {', '.join(map(repr, unknown))}; its "
                f"options are {', '.join(self.option_names())}"
            )
        return dataclasses.replace(self, **changes)

    # Shared validators (each option kind has one rule).
    def _tolerance(self, *names):
        for name in names:
            object.__setattr__(self, name, check_positive(getattr(self, name), name, upper=1.0))

    def _count(self, *names, allow_zero=False):
        for name in names:
            value = check_positive(getattr(self, name), name, integer=True, allow_zero=allow_zero)
            object.__setattr__(self, name, value)

    def _flag(self, *names):
        for name in names:
            value = getattr(self, name)
            if not isinstance(value, bool):
                raise TypeError(f"{name} must be True or False; got {value!r}")


def configure(solver, default, accepted: tuple[type, ...], options: dict, *, entry: str):
    """The solver object to use: ``solver`` (or ``default``) with ``options`` applied.

    Raises TypeError when ``solver`` is not one of ``accepted`` or an option is not one of
    the solver's.
    """
    if solver is None:
        solver = default
    if not isinstance(solver, accepted):
        names = " or ".join(f"nn.{c.__name__}(...)" for c in accepted)
        raise TypeError(f"{entry}: solver must be {names}; got {solver!r}")
    unknown = sorted(set(options) - set(solver.option_names()))
    if unknown:
        raise TypeError(
            f"{entry} got unexpected keyword argument(s) {', '.join(map(repr, unknown))}; the "
            f"options of {type(solver).__name__} are {', '.join(solver.option_names())}"
        )
    return solver.replace(**options) if options else solver
