"""Export one (role, strategy) route of a Group MoELoRA adapter as a standard PEFT LoRA adapter.

For a fixed route the update of every layer is a single low-rank matrix
``ΔW = Σ_k c_k B_k A_k = B · diag(c ⊗ 1_r) · A`` (rank ≤ E·r). Written as a LoRA with ``lora_A = diag(c ⊗ 1_r)·A``,
``lora_B = B`` it is exact; ``rank=R`` keeps the best rank-R approximation (truncated SVD, computed through QR of
the two factors so the dense ``out × in`` matrix is never formed) and reports the relative Frobenius error.
The result loads with ``peft.PeftModel.from_pretrained`` and is served by any multi-LoRA engine (vLLM, TGI, LoRAX).
Only the adapter file is read; the base model is loaded only to verify the export (``verify=True``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Union

import numpy as np
import torch

from .config import WEIGHTS_NAME, GroupMoELoraConfig
from .layer import group_coefficients
from .persistence import Download, adapter_folder, gate_from_state, read_adapter
from .routing import LabelResolver, RouteSpec, route_probs

# Architectures whose projections are transformers Conv1D layers (weight stored as [in, out]).
CONV1D_MODEL_TYPES = ("gpt2",)
EXPORT_INFO_NAME = "empath_export.json"


def _layer_names(state: dict[str, torch.Tensor]) -> list[str]:
    return sorted(k[: -len(".moelora_A")] for k in state if k.endswith(".moelora_A"))


def _truncate(B: torch.Tensor, A: torch.Tensor, rank: int) -> tuple[torch.Tensor, torch.Tensor, float, float]:
    """Best rank-``rank`` factors of ``B @ A`` plus (squared error, squared norm) in the Frobenius norm."""
    Qb, Rb = torch.linalg.qr(B)  # B = Qb Rb
    Qa, Ra = torch.linalg.qr(A.T)  # A = Ra^T Qa^T
    U, S, Vh = torch.linalg.svd(Rb @ Ra.T)
    k = min(rank, S.numel())
    root = S[:k].sqrt()
    new_B = (Qb @ U[:, :k]) * root
    new_A = root[:, None] * (Vh[:k] @ Qa.T)
    return new_B, new_A, float(S[k:].square().sum()), float(S.square().sum())


def _route_pair(config: GroupMoELoraConfig, role: RouteSpec, strategy: RouteSpec,
                label_resolvers: Optional[Mapping[str, LabelResolver]]) -> tuple[torch.Tensor, torch.Tensor]:
    """The role and strategy probabilities ``[b, N]`` / ``[b, M]`` of a route."""
    resolvers = label_resolvers or {}
    return (route_probs("role", role, config.role_names, resolvers.get("role")),
            route_probs("strategy", strategy, config.strategy_names, resolvers.get("strategy")))


@torch.no_grad()
def route_gate_weights(config: GroupMoELoraConfig, state: Mapping[str, torch.Tensor], role: RouteSpec,
                       strategy: RouteSpec, label_resolvers: Optional[Mapping[str, LabelResolver]] = None
                       ) -> dict[str, np.ndarray]:
    """:meth:`GroupMoELoraModel.gate_weights` from a saved adapter's tensors alone (no base model): the softmax
    gate outputs of one route, the mean over layers for ``gate_scope="layer"``."""
    gate = gate_from_state(config, state)
    role_p, strategy_p = _route_pair(config, role, strategy, label_resolvers)
    role_e, strategy_e = gate.embed("role", role_p[:1]), gate.embed("strategy", strategy_p[:1])
    if config.gate_scope == "global":
        pair = gate.role_gate(role_e).softmax(-1), gate.strategy_gate(strategy_e).softmax(-1)
    else:
        names = sorted(k[: -len(".moelora_role_gate.weight")] for k in state if k.endswith(".moelora_role_gate.weight"))
        pair = tuple(torch.stack([(e @ state[f"{n}.moelora_{g}_gate.weight"].float().T).softmax(-1) for n in names]).mean(0)
                     for g, e in (("role", role_e), ("strategy", strategy_e)))
    return {"role": pair[0][0].numpy(), "strategy": pair[1][0].numpy()}


@torch.no_grad()
def route_lora_factors(
    config: GroupMoELoraConfig, state: dict[str, torch.Tensor], role: RouteSpec, strategy: RouteSpec,
    rank: Optional[int] = None, label_resolvers: Optional[Mapping[str, LabelResolver]] = None,
) -> tuple[dict[str, tuple[torch.Tensor, torch.Tensor]], dict]:
    """``{module_name: (lora_A [R, in], lora_B [out, R])}`` whose product is the route's full update (scaling
    included), and a report with the relative error of the truncation (0 when exact)."""
    gate = gate_from_state(config, state)
    role_p, strategy_p = _route_pair(config, role, strategy, label_resolvers)
    if role_p.shape[0] != 1 or strategy_p.shape[0] != 1:
        raise ValueError("export one route: a single role and a single strategy (or one weight vector each)")
    role_e, strategy_e = gate.embed("role", role_p), gate.embed("strategy", strategy_p)
    global_c = gate.coefficients(role_e, strategy_e)[0] if config.gate_scope == "global" else None
    total_rank = config.num_experts * config.r
    exact = rank is None or rank >= total_rank
    factors, err2, norm2, worst = {}, 0.0, 0.0, 0.0
    for name in _layer_names(state):
        if global_c is None:  # per-layer gates live next to the layer's experts
            c = group_coefficients(
                role_e @ state[f"{name}.moelora_role_gate.weight"].float().T,
                strategy_e @ state[f"{name}.moelora_strategy_gate.weight"].float().T,
                config.beta,
                config.scaling,
            )[0]
        else:
            c = global_c
        A = c.repeat_interleave(config.r)[:, None].double() * state[f"{name}.moelora_A"].double()
        B = state[f"{name}.moelora_B"].double()
        if exact:
            factors[name] = (A.float(), B.float())
            continue
        new_B, new_A, layer_err2, layer_norm2 = _truncate(B, A, rank)
        factors[name] = (new_A.float(), new_B.float())
        err2, norm2 = err2 + layer_err2, norm2 + layer_norm2
        worst = max(worst, (layer_err2 / layer_norm2) ** 0.5 if layer_norm2 > 0 else 0.0)
    report = {
        "rank": total_rank if exact else rank,
        "total_rank": total_rank,
        "exact": exact,
        "relative_error": 0.0 if exact or norm2 == 0 else (err2 / norm2) ** 0.5,
        "relative_error_max_layer": worst,
        "layers": len(factors),
        "gate_weights": {
            "role": (gate.role_gate(role_e).softmax(-1)[0].tolist() if global_c is not None else None),
            "strategy": (gate.strategy_gate(strategy_e).softmax(-1)[0].tolist() if global_c is not None else None),
        },
    }
    return factors, report


def save_lora(
    factors: dict[str, tuple[torch.Tensor, torch.Tensor]],
    out_dir: Union[str, os.PathLike],
    base_model_name_or_path: Optional[str],
    fan_in_fan_out: bool = False,
) -> Path:
    """Write ``factors`` as a PEFT LoRA adapter (scaling 1: ``lora_alpha = r``)."""
    from peft import LoraConfig
    from safetensors.torch import save_file

    ranks = {a.shape[0] for a, _ in factors.values()}
    if len(ranks) != 1:
        raise ValueError(f"all layers must share one rank, got {sorted(ranks)}")
    rank = ranks.pop()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    LoraConfig(
        r=rank,
        lora_alpha=rank,
        lora_dropout=0.0,
        target_modules=sorted(factors),
        fan_in_fan_out=fan_in_fan_out,
        task_type="CAUSAL_LM",
        base_model_name_or_path=base_model_name_or_path,
    ).save_pretrained(out)
    tensors = {}
    for name, (A, B) in factors.items():
        tensors[f"base_model.model.{name}.lora_A.weight"] = A.contiguous()
        tensors[f"base_model.model.{name}.lora_B.weight"] = B.contiguous()
    save_file(tensors, str(out / WEIGHTS_NAME), metadata={"format": "pt"})
    return out


def export_lora(
    adapter_dir: Union[str, os.PathLike],
    role: RouteSpec,
    strategy: RouteSpec,
    out_dir: Union[str, os.PathLike],
    rank: Optional[int] = None,
    base_model: Optional[Union[str, os.PathLike]] = None,
    verify: bool = False,
    revision: Optional[str] = None,
    *,
    label_resolvers: Optional[Mapping[str, LabelResolver]] = None,
    resolve_base: Optional[Callable[[str], Union[str, os.PathLike]]] = None,
    download: Optional[Download] = None,
) -> dict[str, Any]:
    """Write the (role, strategy) route of a Group MoELoRA adapter as a plain PEFT LoRA in ``out_dir``.

    ``rank=None`` is exact (rank = E·r); ``rank=R`` truncates by SVD and reports ``relative_error`` (Frobenius, over
    all layers) and ``relative_error_max_layer``. ``base_model`` (default: ``base_model_name_or_path`` from the
    adapter's config) is recorded in the LoRA config and, with ``verify=True``, loaded (from the folder
    ``resolve_base(base_model)`` gives, default the reference itself) to compare the logits of both adapters on a
    probe input (``max_abs_logit_diff``)."""
    folder = adapter_folder(adapter_dir, revision, download)
    config, state = read_adapter(folder)
    if rank is not None and rank < 1:
        raise ValueError(f"rank must be a positive integer, got {rank}")
    factors, report = route_lora_factors(config, state, role, strategy, rank, label_resolvers)
    base_ref = str(base_model) if base_model is not None else config.base_model_name_or_path
    fan_in_fan_out = (config.base_model_info or {}).get("model_type") in CONV1D_MODEL_TYPES
    save_lora(factors, out_dir, base_ref, fan_in_fan_out=fan_in_fan_out)
    report.update(
        out_dir=str(out_dir),
        role=role if isinstance(role, str) else None,
        strategy=strategy if isinstance(strategy, str) else None,
        base_model_name_or_path=base_ref,
    )
    if verify:
        base_path = resolve_base(base_ref) if resolve_base is not None else base_ref
        report["max_abs_logit_diff"] = _verify(folder, out_dir, role, strategy, base_path, label_resolvers)
    (Path(out_dir) / EXPORT_INFO_NAME).write_text(json.dumps(report, indent=2) + "\n")
    return report


@torch.no_grad()
def _verify(folder: Path, lora_dir, role, strategy, base_path, label_resolvers) -> float:
    """The largest logit difference between the Group MoELoRA route and its exported LoRA on a probe input."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from .model import GroupMoELoraModel

    base = AutoModelForCausalLM.from_pretrained(base_path, dtype=torch.float32).eval()
    probe = torch.arange(1, 17).remainder(base.config.vocab_size - 1).unsqueeze(0) + 1
    moelora = GroupMoELoraModel.from_pretrained(base, folder, label_resolvers=label_resolvers)
    with moelora.route(role=role, strategy=strategy):
        expected = moelora(input_ids=probe).logits
    base = moelora.unload()
    lora = PeftModel.from_pretrained(base, str(lora_dir)).eval()
    return float((lora(input_ids=probe).logits - expected).abs().max())
