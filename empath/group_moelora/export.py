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
from typing import Any, Optional, Union

import torch

from .config import WEIGHTS_NAME, GroupMoELoraConfig
from .layer import GroupGate, group_coefficients
from .model import GATE_PREFIX, RouteSpec, _adapter_folder, read_adapter_weights, route_probs

# Architectures whose projections are transformers Conv1D layers (weight stored as [in, out]).
CONV1D_MODEL_TYPES = ("gpt2",)
EXPORT_INFO_NAME = "empath_export.json"


def _gate_from_state(config: GroupMoELoraConfig, state: dict[str, torch.Tensor]) -> GroupGate:
    gate_state = {k[len(GATE_PREFIX):]: v for k, v in state.items() if k.startswith(GATE_PREFIX)}
    features = (gate_state.get("role_text_features"), gate_state.get("strategy_text_features"))
    gate = GroupGate(config, *features)
    gate.load_state_dict(gate_state)
    return gate.eval()


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


@torch.no_grad()
def route_lora_factors(
    config: GroupMoELoraConfig, state: dict[str, torch.Tensor], role: RouteSpec, strategy: RouteSpec, rank: Optional[int] = None
) -> tuple[dict[str, tuple[torch.Tensor, torch.Tensor]], dict]:
    """``{module_name: (lora_A [R, in], lora_B [out, R])}`` whose product is the route's full update (scaling
    included), and a report with the relative error of the truncation (0 when exact)."""
    gate = _gate_from_state(config, state)
    role_p = route_probs("role", role, config.role_names)
    strategy_p = route_probs("strategy", strategy, config.strategy_names)
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
) -> dict[str, Any]:
    """Write the (role, strategy) route of a Group MoELoRA adapter as a plain PEFT LoRA in ``out_dir``.

    ``rank=None`` is exact (rank = E·r); ``rank=R`` truncates by SVD and reports ``relative_error`` (Frobenius, over
    all layers) and ``relative_error_max_layer``. ``base_model`` (default: ``base_model_name_or_path`` from the
    adapter's config, resolved with ``empath.hub.resolve_model``) is recorded in the LoRA config and, with
    ``verify=True``, loaded to compare the logits of both adapters on a probe input (``max_abs_logit_diff``)."""
    folder = _adapter_folder(adapter_dir, revision)
    config = GroupMoELoraConfig.from_pretrained(folder)
    state = read_adapter_weights(folder / WEIGHTS_NAME)
    if rank is not None and rank < 1:
        raise ValueError(f"rank must be a positive integer, got {rank}")
    factors, report = route_lora_factors(config, state, role, strategy, rank)
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
        report["max_abs_logit_diff"] = _verify(folder, out_dir, role, strategy, base_ref)
    (Path(out_dir) / EXPORT_INFO_NAME).write_text(json.dumps(report, indent=2) + "\n")
    return report


@torch.no_grad()
def _verify(adapter_folder: Path, lora_dir, role, strategy, base_ref: Optional[str]) -> float:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from empath.hub import resolve_model

    from .model import GroupMoELoraModel

    base = AutoModelForCausalLM.from_pretrained(resolve_model(base_ref), dtype=torch.float32).eval()
    probe = torch.arange(1, 17).remainder(base.config.vocab_size - 1).unsqueeze(0) + 1
    moelora = GroupMoELoraModel.from_pretrained(base, adapter_folder)
    with moelora.route(role=role, strategy=strategy):
        expected = moelora(input_ids=probe).logits
    base = moelora.unload()
    lora = PeftModel.from_pretrained(base, str(lora_dir)).eval()
    return float((lora(input_ids=probe).logits - expected).abs().max())


# -- every route, for multi-LoRA servers -----------------------------------------------------------------------
VLLM_LORA_RANKS = (8, 16, 32, 64, 128, 256, 320, 512)  # the values vLLM's --max-lora-rank accepts
ROUTES_MANIFEST = "routes.json"
BASE_PLACEHOLDER = "BASE_MODEL"


def _vllm_base(config: GroupMoELoraConfig, base_model: Optional[str]) -> str:
    """What ``vllm serve`` loads: ``base_model``, else the adapter's base (the offline default's Hub original for
    the packaged demo adapter, whose base is a converted local GGUF)."""
    if base_model:
        return str(base_model)
    from empath.hub import DEFAULT_BASE_MODEL, DEFAULT_HUB_MODEL

    name = config.base_model_name_or_path
    if not name:
        return BASE_PLACEHOLDER
    return DEFAULT_HUB_MODEL if str(name).strip() == DEFAULT_BASE_MODEL else str(name)


def export_routes(
    adapter_dir: Union[str, os.PathLike],
    out_dir: Union[str, os.PathLike],
    rank: Optional[int] = None,
    base_model: Optional[str] = None,
    max_loras: Optional[int] = None,
    uniform: bool = True,
    revision: Optional[str] = None,
) -> dict[str, Any]:
    """Every (role, strategy) route of an adapter as a PEFT LoRA folder ``<role>--<strategy-slug>`` in ``out_dir``
    (plus ``<role>--uniform``, the even strategy mix a turn without a predicted strategy uses, when ``uniform``),
    a ``routes.json`` manifest, ``serve-vllm.sh`` with the ``vllm serve`` line and a README. The names are the ones
    ``EMPATH_LLM_ROUTES=lora`` asks a server for (:func:`empath.remote.route_model_name`)."""
    from empath.remote import route_model_name

    folder = _adapter_folder(adapter_dir, revision)
    config = GroupMoELoraConfig.from_pretrained(folder)
    state = read_adapter_weights(folder / WEIGHTS_NAME)
    if rank is not None and rank < 1:
        raise ValueError(f"rank must be a positive integer, got {rank}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    base_ref = _vllm_base(config, base_model)
    fan_in_fan_out = (config.base_model_info or {}).get("model_type") in CONV1D_MODEL_TYPES
    strategies: list = list(config.strategy_names)
    if uniform:
        strategies.append([1.0 / len(config.strategy_names)] * len(config.strategy_names))
    routes = []
    for role in config.role_names:
        for strategy in strategies:
            name = route_model_name(role, strategy)
            factors, report = route_lora_factors(config, state, role, strategy, rank)
            save_lora(factors, out / name, base_ref, fan_in_fan_out=fan_in_fan_out)
            routes.append({"name": name, "role": role, "strategy": strategy if isinstance(strategy, str) else None,
                           "rank": report["rank"], "relative_error": report["relative_error"],
                           "relative_error_max_layer": report["relative_error_max_layer"]})
    lora_rank = routes[0]["rank"]
    max_lora_rank = next((r for r in VLLM_LORA_RANKS if r >= lora_rank), lora_rank)
    max_loras = max_loras or min(len(routes), 16)
    manifest = {"adapter": str(folder), "base_model": base_ref, "rank": lora_rank, "exact": rank is None or
                lora_rank >= config.num_experts * config.r, "max_lora_rank": max_lora_rank, "max_loras": max_loras,
                "routes": routes}
    (out / ROUTES_MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    script = _vllm_script(base_ref, [r["name"] for r in routes], max_loras, max_lora_rank)
    (out / "serve-vllm.sh").write_text(script)
    (out / "serve-vllm.sh").chmod(0o755)
    (out / "README.md").write_text(_routes_readme(manifest, folder, out))
    manifest["out_dir"] = str(out)
    return manifest


def vllm_command(base_ref: str, names: list[str], max_loras: int, max_lora_rank: int, root: str = "$HERE") -> str:
    modules = " \\\n    ".join(f'{name}="{root}/{name}"' for name in names)
    return (f'vllm serve "${{EMPATH_VLLM_BASE:-{base_ref}}}" --enable-lora --max-loras {max_loras} '
            f"--max-cpu-loras {len(names)} --max-lora-rank {max_lora_rank} \\\n  --lora-modules \\\n    {modules}")


def _vllm_script(base_ref: str, names: list[str], max_loras: int, max_lora_rank: int) -> str:
    return (
        "#!/usr/bin/env sh\n"
        "# Generated by `python -m empath export-routes`: serves the base model with every Empath route as a LoRA.\n"
        "# Extra arguments go to vllm, e.g. ./serve-vllm.sh --port 8000 --tensor-parallel-size 2\n"
        "# EMPATH_VLLM_BASE overrides the base model (a local copy of the same weights).\n"
        "set -eu\n"
        'HERE="$(cd "$(dirname "$0")" && pwd)"\n'
        f'exec {vllm_command(base_ref, names, max_loras, max_lora_rank)} \\\n  "$@"\n'
    )


def _routes_readme(manifest: dict, folder: Path, out: Path) -> str:
    routes = manifest["routes"]
    worst = max(r["relative_error"] for r in routes)
    base = manifest["base_model"]
    placeholder = (f"\n**The adapter names no base model**: replace `{BASE_PLACEHOLDER}` (or set `EMPATH_VLLM_BASE`).\n"
                   if base == BASE_PLACEHOLDER else "")
    return f"""# Empath routes as LoRA adapters

Exported from `{folder}` by `python -m empath export-routes`: {len(routes)} routes, each a plain PEFT LoRA of rank
{manifest['rank']} ({'exact' if manifest['exact'] else f'truncated by SVD; largest relative Frobenius error {worst:.3g}'}),
for the base model `{base}`.{placeholder}

Route names: `<role>--<strategy-slug>`, e.g. `{routes[0]['name']}`; the strategy slug is the ESConv strategy name in
lower case with dashes (`Reflection of feelings` -> `reflection-of-feelings`), and `<role>--uniform` is the even mix
of all strategies (a turn without a predicted strategy). `routes.json` lists every route and its error.

## Serve them with vLLM (one or several GPUs)

```sh
./serve-vllm.sh --port 8000                       # one GPU
./serve-vllm.sh --port 8000 --tensor-parallel-size 2   # split the base model over two GPUs
```

which runs

```sh
{vllm_command(base, [r['name'] for r in routes[:3]], manifest['max_loras'], manifest['max_lora_rank'])} \\
    …  # all {len(routes)} routes
```

`--max-loras` is how many different routes one batch may mix on the GPU, `--max-cpu-loras` how many stay loaded in
CPU memory, `--max-lora-rank` at least the routes' rank ({manifest['rank']}).

## Point Empath at it

```sh
export EMPATH_LLM_BASE_URL=http://127.0.0.1:8000/v1
export EMPATH_LLM_MODEL={base}
export EMPATH_LLM_ROUTES=lora        # each turn asks for its route's LoRA by name
export EMPATH_ADAPTER={folder}   # optional: gate weights in the app, and the adapter's prompt style
python app.py                        # or: python -m empath serve
```

Persona matching, strategy prediction, experience retrieval and the safety check still run in Empath; the server
only writes the reply. A turn without the adapter (the base-model comparison) asks for `{base}` itself.
"""
