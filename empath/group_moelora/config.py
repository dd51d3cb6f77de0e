"""Configuration of a Group MoELoRA adapter (paper Section 5.1, Eq. 4-6; defaults from Appendix E, Table 6)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Optional, Union

from peft import PeftConfig

ADAPTER_TYPE = "GROUP_MOELORA"
ADAPTER_NAME = "default"  # a GroupMoELoraModel holds one adapter, under PEFT's default name
CONFIG_NAME = "adapter_config.json"
WEIGHTS_NAME = "adapter_model.safetensors"

# Attention and MLP projections. Llama/Qwen2/Mistral-style decoders share these names; GPT-2 uses Conv1D
# layers named c_attn / c_proj (attention output and MLP output) / c_fc.
LLAMA_STYLE_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
DEFAULT_TARGET_MODULES: dict[str, list[str]] = {
    **{name: LLAMA_STYLE_TARGETS for name in ("llama", "qwen2", "qwen3", "mistral", "mixtral", "gemma", "gemma2", "phi3")},
    "gpt2": ["c_attn", "c_proj", "c_fc"],
}
GATE_SCOPES = ("global", "layer")
EMBEDDING_INITS = ("text", "learned")


class AdapterConfigError(ValueError):
    """An adapter_config.json that is missing, unreadable or not a Group MoELoRA config."""


@dataclass
class GroupMoELoraConfig(PeftConfig):
    """Group MoELoRA: a role group and a strategy group of LoRA experts, gated by role/strategy embeddings.

    ``o = W0·x + (lora_alpha/r)·[beta·Σ_k w_role,k·B_k A_k x + (1-beta)·Σ_k w_strategy,k·B_k A_k x]`` with
    ``w_* = softmax(W_*_gate · e_*)``. ``beta`` is not defined in the paper beyond its value (0.4); we read it
    as the weight of the role group against the strategy group.

    ``role_names`` / ``strategy_names`` (required) are the route names: the caller's personas and strategies.
    ``embedding_init="text"`` derives each embedding from a sentence-encoder vector of the role profile /
    strategy definition (texts and encoder given by the caller when the adapter is created) through a trained
    projection to ``embedding_dim`` (so new personas can be added from their profile text later); ``"learned"``
    uses free, randomly initialised embedding rows.
    """

    adapter_type: str = field(default=ADAPTER_TYPE, metadata={"help": "Marks the file as Empath Group MoELoRA."})
    target_modules: Optional[Union[list[str], str]] = field(
        default=None,
        metadata={"help": "Module names (suffixes) or a regex; default: attention + MLP projections by model_type."},
    )
    exclude_modules: Optional[Union[list[str], str]] = field(default=None)
    layers_to_transform: Optional[Union[list[int], int]] = field(default=None)
    layers_pattern: Optional[Union[list[str], str]] = field(default=None)
    r: int = field(default=32, metadata={"help": "LoRA rank of each expert."})
    lora_alpha: float = field(default=32, metadata={"help": "Scaling numerator: updates are scaled by lora_alpha / r."})
    lora_dropout: float = field(default=0.1)
    role_names: Optional[list[str]] = field(default=None, metadata={"help": "N role ids (required)."})
    strategy_names: Optional[list[str]] = field(default=None, metadata={"help": "M strategy names (required)."})
    num_role_experts: int = field(default=8)
    num_strategy_experts: int = field(default=8)
    embedding_dim: int = field(default=128, metadata={"help": "d, the size of the role/strategy embeddings."})
    gate_scope: str = field(default="global", metadata={"help": "'global' (one gate per group, Eq. 5) or 'layer'."})
    beta: float = field(default=0.4, metadata={"help": "Weight of the role group; the strategy group gets 1 - beta."})
    embedding_init: str = field(default="text", metadata={"help": "'text' (sentence-encoder based) or 'learned'."})
    text_encoder: str = field(default="all-minilm-l6-v2", metadata={"help": "Name of the encoder behind 'text' "
                              "(recorded for the caller, who supplies the encoder itself)."})
    text_lang: str = field(default="en", metadata={"help": "Language of the profile/definition texts."})
    center_text_features: bool = field(default=True, metadata={"help": (
        "Subtract the mean text vector (fixed at creation) before the projection, so the gates read how routes "
        "differ rather than what all texts share; uncentred, every route's gate collapsed onto one expert.")})
    text_feature_dim: Optional[int] = field(default=None, metadata={"help": "Encoder output size (set on creation)."})
    init_lora_weights: bool = field(default=True, metadata={"help": "True: B = 0, so the adapter starts as identity."})
    base_model_info: Optional[dict] = field(default=None, metadata={"help": "Identity of the base (set on creation)."})
    # Read by PEFT's BaseTuner machinery; Group MoELoRA trains no extra modules.
    modules_to_save: Optional[list[str]] = field(default=None)
    target_parameters: Optional[list[str]] = field(default=None)

    def __post_init__(self):
        super().__post_init__()
        if self.role_names is None or self.strategy_names is None:
            raise ValueError("invalid GroupMoELoraConfig: role_names and strategy_names are required (the route "
                             "names: the personas and strategies the adapter is routed by)")
        self.role_names, self.strategy_names = list(self.role_names), list(self.strategy_names)
        if isinstance(self.target_modules, (set, tuple)):
            self.target_modules = sorted(self.target_modules)
        problems = []
        for name in ("r", "num_role_experts", "num_strategy_experts", "embedding_dim"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                problems.append(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        if not 0.0 <= self.beta <= 1.0:
            problems.append(f"beta must be in [0, 1], got {self.beta}")
        if not 0.0 <= self.lora_dropout < 1.0:
            problems.append(f"lora_dropout must be in [0, 1), got {self.lora_dropout}")
        if self.gate_scope not in GATE_SCOPES:
            problems.append(f"gate_scope must be one of {GATE_SCOPES}, got {self.gate_scope!r}")
        if self.embedding_init not in EMBEDDING_INITS:
            problems.append(f"embedding_init must be one of {EMBEDDING_INITS}, got {self.embedding_init!r}")
        for group, names in (("role_names", self.role_names), ("strategy_names", self.strategy_names)):
            if not names:
                problems.append(f"{group} must not be empty")
            elif len(set(names)) != len(names):
                problems.append(f"{group} has duplicates: {names}")
        if self.adapter_type != ADAPTER_TYPE:
            problems.append(f"adapter_type must be {ADAPTER_TYPE!r}, got {self.adapter_type!r}")
        if problems:
            raise ValueError("invalid GroupMoELoraConfig: " + "; ".join(problems))

    @property
    def num_experts(self) -> int:
        return self.num_role_experts + self.num_strategy_experts

    @property
    def scaling(self) -> float:
        return self.lora_alpha / self.r

    def to_dict(self) -> dict:
        data = asdict(self)
        if isinstance(data.get("target_modules"), set):
            data["target_modules"] = sorted(data["target_modules"])
        return data

    def save_pretrained(self, save_directory: str | os.PathLike, **kwargs) -> None:
        path = Path(save_directory)
        path.mkdir(parents=True, exist_ok=True)
        (path / CONFIG_NAME).write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n")

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike, **kwargs) -> "GroupMoELoraConfig":
        path = Path(directory) / CONFIG_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise AdapterConfigError(f"{path}: not found (is this a Group MoELoRA adapter folder?)") from exc
        except (OSError, json.JSONDecodeError) as exc:
            raise AdapterConfigError(f"{path}: not valid JSON: {exc}") from exc
        if not isinstance(data, dict) or data.get("adapter_type") != ADAPTER_TYPE:
            found = data.get("adapter_type") or data.get("peft_type") if isinstance(data, dict) else None
            raise AdapterConfigError(
                f"{path}: not a Group MoELoRA config (adapter_type={found!r}); a plain PEFT adapter loads with "
                "peft.PeftModel.from_pretrained"
            )
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise AdapterConfigError(f"{path}: unknown keys {unknown} (written by a newer empath?)")
        data.setdefault("center_text_features", False)  # adapters from before the option were trained uncentred
        data.update(kwargs)
        try:
            return cls(**data)
        except (TypeError, ValueError) as exc:
            raise AdapterConfigError(f"{path}: {exc}") from exc
