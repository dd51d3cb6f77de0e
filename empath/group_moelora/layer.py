"""Group MoELoRA layers: the adapted projection and the role/strategy gate (paper Eq. 4-6).

All experts of a layer live in two stacked matrices, ``A: [E·r, in]`` (rows ``k·r … (k+1)·r`` are expert
``k``'s A_k) and ``B: [out, E·r]`` (columns likewise), role experts first, strategy experts after. The expert
sum ``Σ_k c_k·B_k A_k x`` is then one low-rank product: ``B · (c ⊙ (A x))`` with the per-sample coefficients
``c`` repeated r times, i.e. exactly the cost of one LoRA of rank E·r plus an element-wise scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from peft.tuners.tuners_utils import BaseTunerLayer, _get_in_out_features
from transformers.pytorch_utils import Conv1D

from .config import GroupMoELoraConfig
from .routing import RoutingError


def group_coefficients(
    role_logits: torch.Tensor, strategy_logits: torch.Tensor, beta: float, scaling: float
) -> torch.Tensor:
    """Per-expert coefficients ``[batch, E]``: (α/r)·β·softmax(role logits) ‖ (α/r)·(1-β)·softmax(strategy logits)."""
    return torch.cat(
        [role_logits.softmax(-1) * (beta * scaling), strategy_logits.softmax(-1) * ((1.0 - beta) * scaling)], dim=-1
    )


@dataclass
class RouteState:
    """Per-sample routing of one call: embeddings ``[b, d]`` and, for a global gate, the coefficients ``[b, E]``."""

    role_embedding: torch.Tensor
    strategy_embedding: torch.Tensor
    coefficients: Optional[torch.Tensor] = None


def match_batch(rows: torch.Tensor, batch: int) -> torch.Tensor:
    """Line per-sample rows up with an input batch: equal, broadcast from 1, or expanded the way
    ``generate()`` expands inputs for ``num_return_sequences`` / ``num_beams`` (``repeat_interleave``)."""
    n = rows.shape[0]
    if n == batch:
        return rows
    if n == 1:
        return rows.expand(batch, *rows.shape[1:])
    if batch % n == 0:
        return rows.repeat_interleave(batch // n, dim=0)
    raise RoutingError(f"the route has {n} rows but the input batch has {batch}; pass one route per sample (or one for all)")


def _normal_(tensor: torch.Tensor, std: float) -> torch.Tensor:
    with torch.no_grad():
        return tensor.normal_(0.0, std)


class GroupGate(nn.Module):
    """Role/strategy embeddings (Eq. 4) and, for ``gate_scope="global"``, the two gates of Eq. 5.

    ``embedding_init="text"``: ``E = F · P`` where ``F`` are frozen sentence-encoder vectors of the role profiles /
    strategy definitions (buffers, saved with the adapter) and ``P`` a trained projection to ``d``; a new persona
    is one more row of ``F``. ``"learned"``: ``E`` is a free parameter.
    """

    def __init__(
        self,
        config: GroupMoELoraConfig,
        role_features: Optional[torch.Tensor] = None,
        strategy_features: Optional[torch.Tensor] = None,
    ):
        super().__init__()
        d = config.embedding_dim
        self.text_init = config.embedding_init == "text"
        # Unit-norm embeddings and unit-variance gate rows give gate logits of order 1 at initialisation, so
        # different routes start with visibly different (not uniform, not one-hot) expert mixtures.
        if self.text_init:
            for group, features in (("role", role_features), ("strategy", strategy_features)):
                if features is None:
                    raise ValueError(f"embedding_init='text' needs {group} text features")
                self.register_buffer(f"{group}_text_features", features.detach().float().clone())
                if config.center_text_features:  # the mean of the creation-time rows; rows added later keep it
                    self.register_buffer(f"{group}_text_features_mean", features.detach().float().mean(0))
                projection = nn.Linear(features.shape[1], d, bias=False)
                _normal_(projection.weight, 1.0 / math.sqrt(d))
                setattr(self, f"{group}_projection", projection)
        else:
            self.role_embedding = nn.Parameter(_normal_(torch.empty(len(config.role_names), d), 1.0 / math.sqrt(d)))
            self.strategy_embedding = nn.Parameter(
                _normal_(torch.empty(len(config.strategy_names), d), 1.0 / math.sqrt(d))
            )
        if config.gate_scope == "global":
            self.role_gate = nn.Linear(d, config.num_role_experts, bias=False)
            self.strategy_gate = nn.Linear(d, config.num_strategy_experts, bias=False)
            _normal_(self.role_gate.weight, 1.0)
            _normal_(self.strategy_gate.weight, 1.0)
        self.beta = config.beta
        self.scaling = config.scaling

    def embeddings(self, group: str) -> torch.Tensor:
        """``E_role [N, d]`` or ``E_strategy [M, d]``."""
        if self.text_init:
            features = getattr(self, f"{group}_text_features")
            mean = getattr(self, f"{group}_text_features_mean", None)
            return getattr(self, f"{group}_projection")(features if mean is None else features - mean)
        return getattr(self, f"{group}_embedding")

    def embed(self, group: str, probs: torch.Tensor) -> torch.Tensor:
        """Per-sample embeddings ``[b, d]``: a probability-weighted mix of the rows (a one-hot row picks one)."""
        table = self.embeddings(group)
        return probs.to(table.dtype) @ table

    def coefficients(self, role_embedding: torch.Tensor, strategy_embedding: torch.Tensor) -> torch.Tensor:
        return group_coefficients(
            self.role_gate(role_embedding), self.strategy_gate(strategy_embedding), self.beta, self.scaling
        )

    def add_text_row(self, group: str, features: torch.Tensor) -> None:
        name = f"{group}_text_features"
        current = getattr(self, name)
        setattr(self, name, torch.cat([current, features.to(current)], dim=0))


class GroupMoELoraLayer(nn.Module, BaseTunerLayer):
    """A ``nn.Linear`` or GPT-2 ``Conv1D`` with a role group and a strategy group of LoRA experts."""

    adapter_layer_names = ("moelora_A", "moelora_B", "moelora_role_gate", "moelora_strategy_gate")
    other_param_names = ("moelora_dropout",)

    def __init__(self, base_layer: nn.Module, adapter_name: str, config: GroupMoELoraConfig):
        super().__init__()
        if not isinstance(base_layer, (nn.Linear, Conv1D)):
            raise TypeError(
                f"Group MoELoRA adapts nn.Linear and transformers Conv1D layers, not {type(base_layer).__name__}"
            )
        self.base_layer = base_layer
        self.fan_in_fan_out = isinstance(base_layer, Conv1D)  # Conv1D stores its weight as [in, out]
        self.in_features, self.out_features = _get_in_out_features(base_layer)
        self.r = config.r
        self.num_role_experts = config.num_role_experts
        self.num_experts = config.num_experts
        self.scaling = config.scaling
        self.beta = config.beta
        self.gate_scope = config.gate_scope
        self.moelora_A = nn.ParameterDict()
        self.moelora_B = nn.ParameterDict()
        self.moelora_role_gate = nn.ModuleDict()
        self.moelora_strategy_gate = nn.ModuleDict()
        self.moelora_dropout = nn.ModuleDict()
        self.merged_adapters: list[str] = []
        self._route: Optional[RouteState] = None
        self._merged_coefficients: Optional[torch.Tensor] = None
        self._original_weight: Optional[torch.Tensor] = None  # half-precision bases: W0 kept while merged
        self._active_adapter = adapter_name
        self._disable_adapters = False
        self.update_layer(adapter_name, config)

    def update_layer(self, adapter_name: str, config: GroupMoELoraConfig) -> None:
        weight = self.base_layer.weight
        # Half-precision bases keep fp32 adapters (PEFT's autocast_adapter_dtype default) for stable training.
        dtype = weight.dtype if weight.dtype in (torch.float32, torch.float64) else torch.float32
        rank = self.num_experts * self.r
        A = torch.empty(rank, self.in_features, device=weight.device, dtype=dtype)
        B = torch.empty(self.out_features, rank, device=weight.device, dtype=dtype)
        # Same fan-in as one expert's A (kaiming-uniform rows, as PEFT's LoRA); B = 0 makes the adapter an identity.
        nn.init.kaiming_uniform_(A, a=math.sqrt(5))
        if config.init_lora_weights:
            nn.init.zeros_(B)
        else:
            _normal_(B, 1.0 / math.sqrt(self.r))
        self.moelora_A[adapter_name] = nn.Parameter(A)
        self.moelora_B[adapter_name] = nn.Parameter(B)
        self.moelora_dropout[adapter_name] = nn.Dropout(config.lora_dropout) if config.lora_dropout else nn.Identity()
        if config.gate_scope == "layer":
            d = config.embedding_dim
            role_gate = nn.Linear(d, config.num_role_experts, bias=False, device=weight.device, dtype=dtype)
            strategy_gate = nn.Linear(d, config.num_strategy_experts, bias=False, device=weight.device, dtype=dtype)
            _normal_(role_gate.weight, 1.0)
            _normal_(strategy_gate.weight, 1.0)
            self.moelora_role_gate[adapter_name] = role_gate
            self.moelora_strategy_gate[adapter_name] = strategy_gate

    # -- routing ------------------------------------------------------------------------------
    @property
    def _adapter(self) -> str:
        return self.active_adapters[0]

    def set_route(self, route: Optional[RouteState]) -> None:
        self._route = route

    def gate_probs(self, role_embedding: torch.Tensor, strategy_embedding: torch.Tensor):
        """This layer's own softmax gate outputs (``gate_scope="layer"`` only)."""
        name = self._adapter
        role_gate, strategy_gate = self.moelora_role_gate[name], self.moelora_strategy_gate[name]
        device = role_gate.weight.device
        return (
            role_gate(role_embedding.to(device)).softmax(-1).to(role_embedding.device),
            strategy_gate(strategy_embedding.to(device)).softmax(-1).to(role_embedding.device),
        )

    def coefficients_for(self, route: RouteState) -> torch.Tensor:
        """Per-sample expert coefficients ``[b, E]`` (scaling and beta included)."""
        if route.coefficients is not None:
            return route.coefficients
        name = self._adapter
        role_gate, strategy_gate = self.moelora_role_gate[name], self.moelora_strategy_gate[name]
        device = role_gate.weight.device  # the shared embeddings may live on another device (device_map)
        return group_coefficients(
            role_gate(route.role_embedding.to(device)),
            strategy_gate(route.strategy_embedding.to(device)),
            self.beta,
            self.scaling,
        )

    # -- forward ------------------------------------------------------------------------------
    def forward(self, x: torch.Tensor, *args, **kwargs) -> torch.Tensor:
        result = self.base_layer(x, *args, **kwargs)
        if self.disable_adapters or self.merged:
            return result
        if self._route is None:
            raise RoutingError(
                "no role/strategy route is set: call the GroupMoELoraModel (forward/generate with role_ids/"
                "strategy_ids, or inside `with model.route(...)`) rather than the wrapped base model"
            )
        name = self._adapter
        A, B = self.moelora_A[name], self.moelora_B[name]
        coefficients = match_batch(self.coefficients_for(self._route), x.shape[0])
        hidden = F.linear(self.moelora_dropout[name](self._cast_input_dtype(x, A.dtype)), A)  # [b, ..., E·r]
        scale = coefficients.to(device=hidden.device, dtype=hidden.dtype).repeat_interleave(self.r, dim=-1)  # [b, E·r]
        hidden = hidden * scale.view(scale.shape[0], *([1] * (hidden.dim() - 2)), scale.shape[-1])
        return result + F.linear(hidden, B).to(result.dtype)

    # -- merging ------------------------------------------------------------------------------
    def delta_weight(self, coefficients: torch.Tensor) -> torch.Tensor:
        """``Σ_k c_k B_k A_k`` for one route (``coefficients: [E]``), in the base weight's layout and dtype."""
        name = self._adapter
        A, B = self.moelora_A[name], self.moelora_B[name]
        scale = coefficients.to(device=A.device, dtype=torch.float32).repeat_interleave(self.r)
        delta = B.float() @ (scale[:, None] * A.float())  # [out, in]
        if self.fan_in_fan_out:
            delta = delta.T
        return delta.to(self.get_base_layer().weight.dtype)

    def merge(self, safe_merge: bool = False, adapter_names=None, *, coefficients: Optional[torch.Tensor] = None):
        """Fold one route's update into W0 (``coefficients: [E]``); forward then costs the same as the base.

        fp32/fp64 weights take the update in place and give it back on :meth:`unmerge` (the round trip leaves a
        residue of a few ulps). Half-precision weights would lose up to half an ulp on every round trip, which adds
        up over many route switches, so their original is copied (to CPU) first and restored exactly."""
        if coefficients is None:
            raise ValueError("Group MoELoRA merges one route: use GroupMoELoraModel.merge(role=..., strategy=...)")
        if self.merged:
            raise RuntimeError("this layer is already merged; unmerge() first")
        base = self.get_base_layer()
        with torch.no_grad():
            delta = self.delta_weight(coefficients)
            if safe_merge and not torch.isfinite(base.weight + delta).all():
                raise ValueError("merging would produce NaN/inf weights; the adapter is likely broken")
            if base.weight.dtype not in (torch.float32, torch.float64):
                self._original_weight = base.weight.detach().to("cpu", copy=True)
            base.weight.add_(delta)
        self._merged_coefficients = coefficients.detach().clone()
        self.merged_adapters = [self._adapter]

    def remerge(self, coefficients: torch.Tensor) -> None:
        """Swap the merged route for another (``coefficients: [E]``) in one pass: ``W += Σ_k (c'_k - c_k) B_k A_k``
        in place, or the kept original plus the new update for half-precision weights."""
        if not self.merged:
            self.merge(coefficients=coefficients)
            return
        base = self.get_base_layer()
        with torch.no_grad():
            original = getattr(self, "_original_weight", None)
            if original is not None:
                base.weight.copy_(original.to(base.weight.device))
                base.weight.add_(self.delta_weight(coefficients))
            else:
                old = self._merged_coefficients.to(coefficients.device, torch.float32)
                base.weight.add_(self.delta_weight(coefficients.float() - old))
        self._merged_coefficients = coefficients.detach().clone()

    def unmerge(self) -> None:
        if not self.merged:
            return
        with torch.no_grad():
            weight = self.get_base_layer().weight
            original = getattr(self, "_original_weight", None)
            if original is not None:
                weight.copy_(original.to(weight.device))
            else:
                weight.sub_(self.delta_weight(self._merged_coefficients))
        self._original_weight = None
        self._merged_coefficients = None
        self.merged_adapters = []

    def __repr__(self) -> str:
        return (
            f"GroupMoELoraLayer({self.base_layer!r}, experts={self.num_role_experts}+"
            f"{self.num_experts - self.num_role_experts}, r={self.r}, gate={self.gate_scope})"
        )
