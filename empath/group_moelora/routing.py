"""Routes of a Group MoELoRA adapter: which role and which strategy (or which mixture of them) a call takes.

A route value may be a role id / strategy name, an ``int`` index, a list of ids or an integer tensor (one per
sample), or float weights ``[N]`` (all samples) / ``[batch, N]`` (normalised per row). Integer dtypes are indices,
floating dtypes are probabilities. Names are the adapter's own (``config.role_names`` / ``config.strategy_names``);
a caller that knows aliases (e.g. other spellings of a strategy) passes a :data:`LabelResolver` per group.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Optional, Sequence, Union

import numpy as np
import torch

RouteSpec = Union[str, int, Sequence, np.ndarray, torch.Tensor, None]
# An alias -> the name it stands for, or None when it stands for none.
LabelResolver = Callable[[str], Optional[str]]
GROUPS = ("role", "strategy")


class RoutingError(ValueError):
    """A route (role/strategy ids or weights) that does not fit the adapter or the batch."""


@dataclass(frozen=True)
class Route:
    """One route for a whole call: a persona (role id) and a strategy, given by name or as weights over the
    adapter's strategies (e.g. the even mix used when no strategy was predicted)."""

    role: str
    strategy: Union[str, tuple[float, ...]]

    def __post_init__(self):
        if not isinstance(self.role, str) or not self.role:
            raise RoutingError(f"a route needs one role id, got {self.role!r}")
        if not isinstance(self.strategy, str):  # weights: kept as a tuple so that a Route stays hashable
            object.__setattr__(self, "strategy", tuple(float(w) for w in np.asarray(self.strategy).ravel()))

    @classmethod
    def uniform(cls, role: str, num_strategies: int) -> "Route":
        """``role`` with every strategy weighted evenly."""
        return cls(role, (1.0 / num_strategies,) * num_strategies)

    @property
    def strategy_name(self) -> Optional[str]:
        """The strategy's name, or None for a weight vector."""
        return self.strategy if isinstance(self.strategy, str) else None

    def as_kwargs(self) -> dict:
        """``{"role": ..., "strategy": ...}``: the keyword arguments of ``model.route`` / ``model.gate_weights``."""
        return {"role": self.role, "strategy": self.strategy if isinstance(self.strategy, str) else list(self.strategy)}


def route_kwargs(route: Union[Route, Mapping, None]) -> Optional[dict]:
    """A :class:`Route` or a ``{"role", "strategy"}`` mapping as ``model.route`` keyword arguments (None stays None)."""
    if route is None:
        return None
    if isinstance(route, Route):
        return route.as_kwargs()
    return dict(route)


def _route_index(group: str, label: str, names: Sequence[str], resolve: Optional[LabelResolver]) -> int:
    if label in names:
        return list(names).index(label)
    canonical = resolve(label) if resolve is not None else None
    if canonical in names:
        return list(names).index(canonical)
    raise RoutingError(f"unknown {group} {label!r}; valid {group}s: {', '.join(names)}")


def route_probs(group: str, value: RouteSpec, names: Sequence[str], resolve: Optional[LabelResolver] = None
                ) -> Optional[torch.Tensor]:
    """Any accepted route value -> probabilities ``[b, len(names)]``: an id/name, an int index, a list of ids (one
    per sample), or float weights ``[N]`` / ``[batch, N]`` (normalised per row). Integer dtypes are indices.
    ``resolve`` maps a label that is not one of ``names`` (an alias) to one that is."""
    if value is None:
        return None
    n = len(names)
    if isinstance(value, str):
        indices = torch.tensor([_route_index(group, value, names, resolve)])
    elif isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
        indices = torch.tensor([_route_index(group, v, names, resolve) for v in value])
    else:
        if isinstance(value, (bool, np.bool_)):
            raise RoutingError(f"{group} route must be an id, index or probabilities, not {value!r}")
        tensor = torch.as_tensor(np.asarray(value) if isinstance(value, (list, tuple)) else value)
        if tensor.dtype.is_floating_point:
            probs = tensor.detach().float().cpu()
            probs = probs.unsqueeze(0) if probs.dim() == 1 else probs
            if probs.dim() != 2 or probs.shape[1] != n:
                raise RoutingError(f"{group} weights must have shape [{n}] or [batch, {n}], got {tuple(tensor.shape)}")
            if not torch.isfinite(probs).all() or (probs < 0).any() or (probs.sum(-1) <= 0).any():
                raise RoutingError(f"{group} weights must be non-negative with a positive sum per row")
            return probs / probs.sum(-1, keepdim=True)
        indices = tensor.detach().long().cpu().reshape(-1)
    if indices.numel() == 0 or ((indices < 0) | (indices >= n)).any():
        raise RoutingError(f"{group} index out of range 0..{n - 1}: {indices.tolist()}")
    return torch.nn.functional.one_hot(indices, n).float()
