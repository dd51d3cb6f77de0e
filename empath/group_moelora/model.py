"""GroupMoELoraModel: injects Group MoELoRA layers into a Hugging Face causal LM, routes each sample by role and
strategy, and saves / loads / pushes the adapter.

Routing never touches transformers' model code: ``forward``/``generate`` pop ``role_ids``/``strategy_ids`` (or
``role_weights``/``strategy_weights``), compute the per-sample gate coefficients once and hand them to every adapter
layer before calling the wrapped model.
"""

from __future__ import annotations

import contextlib
import copy
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn as nn
from peft.tuners.tuners_utils import BaseTuner

from .config import (
    CONFIG_NAME,
    DEFAULT_TARGET_MODULES,
    LLAMA_STYLE_TARGETS,
    WEIGHTS_NAME,
    GroupMoELoraConfig,
)
from .layer import GroupGate, GroupMoELoraLayer, RouteState, RoutingError

ADAPTER_NAME = "default"
GATE_PREFIX = "moelora_gate."
# Base-model properties an adapter depends on; a mismatch makes loading fail with a clear message.
_IDENTITY_KEYS = ("model_type", "hidden_size", "intermediate_size", "num_hidden_layers", "vocab_size", "n_embd", "n_layer")

RouteSpec = Union[str, int, Sequence, np.ndarray, torch.Tensor, None]


class AdapterLoadError(RuntimeError):
    """An adapter that does not fit the base model, or a damaged adapter file."""


def _encode_texts(encoder: Any, texts: list[str]) -> torch.Tensor:
    """Accept an empath SentenceEncoder (``.encode``), any callable ``texts -> array``, or nothing."""
    vectors = encoder.encode(texts) if hasattr(encoder, "encode") else encoder(texts)
    vectors = torch.as_tensor(np.asarray(vectors, dtype=np.float32))
    if vectors.dim() != 2 or vectors.shape[0] != len(texts):
        raise ValueError(f"the encoder returned shape {tuple(vectors.shape)} for {len(texts)} texts")
    return vectors


def default_role_texts(names: Sequence[str], lang: str = "en") -> list[str]:
    from empath.roles import load_roles

    bank = load_roles()
    return [bank.get(name).profile_text(lang) for name in names]


def default_strategy_texts(names: Sequence[str], lang: str = "en") -> list[str]:
    from empath.strategies import get_strategy

    return [get_strategy(name).definition(lang) for name in names]


def base_model_identity(model: nn.Module) -> dict:
    config = getattr(model, "config", None)
    if config is None:
        return {}
    return {key: getattr(config, key) for key in _IDENTITY_KEYS if getattr(config, key, None) is not None}


def _route_index(group: str, label: str, names: Sequence[str]) -> int:
    if label in names:
        return list(names).index(label)
    if group == "strategy":  # accept the aliases empath.strategies knows (brackets, Chinese names, ...)
        from empath.strategies import UnknownStrategyError, normalize_strategy

        try:
            canonical = normalize_strategy(label)
        except UnknownStrategyError:
            canonical = None
        if canonical in names:
            return list(names).index(canonical)
    raise RoutingError(f"unknown {group} {label!r}; valid {group}s: {', '.join(names)}")


def route_probs(group: str, value: RouteSpec, names: Sequence[str]) -> Optional[torch.Tensor]:
    """Any accepted route value -> probabilities ``[b, len(names)]``: an id/name, an int index, a list of ids (one
    per sample), or float weights ``[N]`` / ``[batch, N]`` (normalised per row). Integer dtypes are indices."""
    if value is None:
        return None
    n = len(names)
    if isinstance(value, str):
        indices = torch.tensor([_route_index(group, value, names)])
    elif isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
        indices = torch.tensor([_route_index(group, v, names) for v in value])
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


class GroupMoELoraModel(BaseTuner):
    """A causal LM with Group MoELoRA adapters (build with :func:`get_group_moelora_model` or :meth:`from_pretrained`).

    Routes are given per call (``model(**inputs, role_ids=..., strategy_ids=...)``, ``role_weights``/
    ``strategy_weights`` for probability vectors) or for a block of code (``with model.route(role=..., strategy=...)``).
    A route value may be an id/name, an int index, a list of ids (one per sample), or float probabilities over the
    roles/strategies (``[N]`` for all samples or ``[batch, N]``); integer values are indices, floating ones
    probabilities. The adapter layers keep the last call's route so that gradient-checkpoint recomputation during
    ``backward()`` sees the same gate coefficients.
    """

    prefix = "moelora_"
    tuner_layer_cls = GroupMoELoraLayer
    target_module_mapping = DEFAULT_TARGET_MODULES
    uses_shared_state = True

    def __init__(
        self,
        model: nn.Module,
        config: GroupMoELoraConfig,
        adapter_name: str = ADAPTER_NAME,
        *,
        encoder: Any = None,
        role_texts: Optional[Sequence[str]] = None,
        strategy_texts: Optional[Sequence[str]] = None,
        _text_features: Optional[tuple[torch.Tensor, torch.Tensor]] = None,
    ) -> None:
        if not isinstance(config, GroupMoELoraConfig):
            raise TypeError(f"expected a GroupMoELoraConfig, got {type(config).__name__}")
        # Read by _pre_injection_hook, which BaseTuner.__init__ calls before the layers are injected.
        self._gate_inputs = dict(encoder=encoder, role_texts=role_texts, strategy_texts=strategy_texts, features=_text_features)
        super().__init__(model, config, adapter_name)
        self._encoder = self._gate_inputs.pop("encoder")  # kept for add_role
        del self._gate_inputs
        self._default_route: dict[str, Optional[torch.Tensor]] = {"role": None, "strategy": None}
        self._merged_route: Optional[tuple[torch.Tensor, torch.Tensor]] = None

    # -- BaseTuner hooks ------------------------------------------------------------------------
    @property
    def adapter_config(self) -> GroupMoELoraConfig:  # the single adapter's config
        return self.peft_config[self.active_adapters[0]]

    def _pre_injection_hook(self, model: nn.Module, config: GroupMoELoraConfig, adapter_name: str) -> None:
        if getattr(self, "moelora_gate", None) is not None:
            raise ValueError("a GroupMoELoraModel holds one adapter; build a second model for another adapter")
        if config.base_model_name_or_path is None:
            config.base_model_name_or_path = getattr(getattr(model, "config", None), "_name_or_path", None) or None
        config.base_model_info = config.base_model_info or base_model_identity(model)
        features = self._gate_inputs["features"]
        if config.embedding_init == "text" and features is None:
            encoder = self._gate_inputs["encoder"]
            if encoder is None:
                from empath.encoders import get_encoder

                encoder = get_encoder(config.text_encoder)
                self._gate_inputs["encoder"] = encoder
            role_texts = self._gate_inputs["role_texts"] or default_role_texts(config.role_names, config.text_lang)
            strategy_texts = self._gate_inputs["strategy_texts"] or default_strategy_texts(
                config.strategy_names, config.text_lang
            )
            for group, texts, names in (("role", role_texts, config.role_names), ("strategy", strategy_texts, config.strategy_names)):
                if len(texts) != len(names):
                    raise ValueError(f"{len(texts)} {group} texts for {len(names)} {group} names")
            features = (_encode_texts(encoder, list(role_texts)), _encode_texts(encoder, list(strategy_texts)))
        if features is not None:
            config.text_feature_dim = int(features[0].shape[1])
        gate = GroupGate(config, *(features or (None, None)))
        weight = next(model.parameters())
        self.moelora_gate = gate.to(weight.device)

    def _prepare_adapter_config(self, peft_config: GroupMoELoraConfig, model_config: dict) -> GroupMoELoraConfig:
        if peft_config.target_modules is None:
            targets = self.target_module_mapping.get(model_config.get("model_type"))
            if targets is None:  # unknown architecture: take whichever common projection names it has
                names = {name.rsplit(".", 1)[-1] for name, _ in self.model.named_modules()}
                targets = [t for t in LLAMA_STYLE_TARGETS + DEFAULT_TARGET_MODULES["gpt2"] if t in names]
            if not targets:
                raise ValueError(
                    f"no default target modules for model_type {model_config.get('model_type')!r}: "
                    "set GroupMoELoraConfig(target_modules=[...])"
                )
            peft_config.target_modules = list(targets)
        return peft_config

    def _create_and_replace(self, peft_config, adapter_name, target, target_name, parent, current_key, **kwargs):
        if isinstance(target, GroupMoELoraLayer):
            raise ValueError(f"{current_key} already carries a Group MoELoRA adapter")
        try:
            new_module = GroupMoELoraLayer(target, adapter_name, peft_config)
        except TypeError as exc:
            raise ValueError(f"cannot adapt {current_key}: {exc}") from exc
        self._replace_module(parent, target_name, new_module, target)

    # -- helpers --------------------------------------------------------------------------------
    def adapter_layers(self) -> list[tuple[str, GroupMoELoraLayer]]:
        """``(module name, layer)`` for every adapted projection (cached: every call routes through them)."""
        cache = self.__dict__.get("_layer_cache")
        if cache is None:
            cache = [(n, m) for n, m in self.model.named_modules() if isinstance(m, GroupMoELoraLayer)]
            self.__dict__["_layer_cache"] = cache
        return cache

    def get_nb_trainable_parameters(self) -> tuple[int, int]:
        trainable = sum(p.numel() for p in self.parameters() if p.requires_grad)
        total = sum(p.numel() for p in self.parameters())
        return trainable, total

    def print_trainable_parameters(self) -> None:
        trainable, total = self.get_nb_trainable_parameters()
        print(f"trainable params: {trainable:,d} || all params: {total:,d} || trainable%: {100 * trainable / total:.4f}")

    @property
    def role_names(self) -> list[str]:
        return self.adapter_config.role_names

    @property
    def strategy_names(self) -> list[str]:
        return self.adapter_config.strategy_names

    # -- routing --------------------------------------------------------------------------------
    def route_probs(self, group: str, value: RouteSpec) -> Optional[torch.Tensor]:
        """Turn any accepted route value into probabilities ``[b, N]`` (``b = 1`` for one route for all samples)."""
        return route_probs(group, value, self.role_names if group == "role" else self.strategy_names)

    @contextlib.contextmanager
    def route(self, role: RouteSpec = None, strategy: RouteSpec = None):
        """Route every call inside the block (per-call keyword arguments still win)."""
        previous = dict(self._default_route)
        if role is not None:
            self._default_route["role"] = self.route_probs("role", role)
        if strategy is not None:
            self._default_route["strategy"] = self.route_probs("strategy", strategy)
        try:
            yield self
        finally:
            self._default_route = previous

    def _resolve(self, group: str, ids, weights) -> Optional[torch.Tensor]:
        if ids is not None and weights is not None:
            raise RoutingError(f"pass either {group}_ids or {group}_weights, not both")
        if weights is not None:
            if not (torch.is_tensor(weights) or isinstance(weights, np.ndarray)):
                weights = np.asarray(weights, dtype=np.float32)
            probs = self.route_probs(group, torch.as_tensor(weights).float())
        elif ids is not None:
            probs = self.route_probs(group, ids if isinstance(ids, (str, list, tuple)) else torch.as_tensor(ids).long())
        else:
            probs = self._default_route[group]
        return probs

    def _route_state(self, role_probs: torch.Tensor, strategy_probs: torch.Tensor) -> RouteState:
        gate = self.moelora_gate
        device = next(gate.parameters()).device
        role_embedding = gate.embed("role", role_probs.to(device))
        strategy_embedding = gate.embed("strategy", strategy_probs.to(device))
        coefficients = None
        if self.adapter_config.gate_scope == "global":
            coefficients = gate.coefficients(role_embedding, strategy_embedding)
        return RouteState(role_embedding, strategy_embedding, coefficients)

    def _activate(self, role_ids=None, strategy_ids=None, role_weights=None, strategy_weights=None) -> None:
        if any(layer.disable_adapters for _, layer in self.adapter_layers()):
            return  # inside disable_adapter(): no route needed
        role = self._resolve("role", role_ids, role_weights)
        strategy = self._resolve("strategy", strategy_ids, strategy_weights)
        if self._merged_route is not None:
            for group, probs, merged in (("role", role, self._merged_route[0]), ("strategy", strategy, self._merged_route[1])):
                if probs is not None and not torch.allclose(probs, merged.expand_as(probs), atol=1e-6):
                    raise RoutingError(f"the model is merged for another {group}; call unmerge() before routing elsewhere")
            return
        missing = [g for g, p in (("role", role), ("strategy", strategy)) if p is None]
        if missing:
            raise RoutingError(
                f"no {' and no '.join(missing)} given: pass role_ids=/strategy_ids= (or role_weights=/strategy_weights=) "
                f"or call inside `with model.route(role=..., strategy=...)`; roles: {', '.join(self.role_names)}; "
                f"strategies: {', '.join(self.strategy_names)}"
            )
        if role.shape[0] != strategy.shape[0] and 1 not in (role.shape[0], strategy.shape[0]):
            raise RoutingError(f"{role.shape[0]} role rows but {strategy.shape[0]} strategy rows")
        batch = max(role.shape[0], strategy.shape[0])
        state = self._route_state(role.expand(batch, -1), strategy.expand(batch, -1))
        for _, layer in self.adapter_layers():
            layer.set_route(state)

    def forward(self, *args, role_ids=None, strategy_ids=None, role_weights=None, strategy_weights=None, **kwargs):
        self._activate(role_ids, strategy_ids, role_weights, strategy_weights)
        return self.model(*args, **kwargs)

    def generate(self, *args, role_ids=None, strategy_ids=None, role_weights=None, strategy_weights=None, **kwargs):
        """``model.generate`` with a route; batches expanded by ``num_return_sequences``/``num_beams`` line up."""
        self._activate(role_ids, strategy_ids, role_weights, strategy_weights)
        return self.model.generate(*args, **kwargs)

    @torch.no_grad()
    def gate_weights(self, role: RouteSpec, strategy: RouteSpec) -> dict[str, np.ndarray]:
        """Softmax gate outputs for one route: ``{"role": [num_role_experts], "strategy": [num_strategy_experts]}``
        (each sums to 1; beta and alpha/r are not applied). With ``gate_scope="layer"`` this is the mean over layers."""
        state = self._route_state(self.route_probs("role", role)[:1], self.route_probs("strategy", strategy)[:1])
        gate = self.moelora_gate
        if self.adapter_config.gate_scope == "global":
            role_w = gate.role_gate(state.role_embedding).softmax(-1)
            strategy_w = gate.strategy_gate(state.strategy_embedding).softmax(-1)
        else:
            pairs = [layer.gate_probs(state.role_embedding, state.strategy_embedding) for _, layer in self.adapter_layers()]
            role_w = torch.stack([p[0] for p in pairs]).mean(0)
            strategy_w = torch.stack([p[1] for p in pairs]).mean(0)
        return {"role": role_w[0].float().cpu().numpy(), "strategy": strategy_w[0].float().cpu().numpy()}

    # -- personas without retraining ------------------------------------------------------------
    def add_role(self, role_id: str, profile_text: str, encoder: Any = None) -> int:
        """Add a persona given only its profile text (text-initialised embeddings only).

        Its embedding is the trained projection of its sentence-encoder vector, so its gate weights are an
        approximation that lands near the trained roles with similar profiles. Returns the new role index."""
        config = self.adapter_config
        if config.embedding_init != "text":
            raise ValueError("add_role needs embedding_init='text': learned embeddings have no text to project")
        if role_id in config.role_names:
            raise ValueError(f"role {role_id!r} already exists")
        encoder = encoder or self._encoder
        if encoder is None:
            from empath.encoders import get_encoder

            encoder = self._encoder = get_encoder(config.text_encoder)
        features = _encode_texts(encoder, [profile_text])
        if features.shape[1] != config.text_feature_dim:
            raise ValueError(
                f"the encoder gives {features.shape[1]}-d vectors but the adapter was built with "
                f"{config.text_feature_dim}-d ({config.text_encoder})"
            )
        self.moelora_gate.add_text_row("role", features)
        config.role_names.append(role_id)
        return len(config.role_names) - 1

    @contextlib.contextmanager
    def disable_adapter(self):
        """Run the base model alone inside the block (ablations; comparisons with the base). A merged route is
        unmerged first: the disabled layers return the base layer's output, which would still carry it."""
        if self._merged_route is not None:
            self.unmerge()
        trainable = {name: p.requires_grad for name, p in self.named_parameters()}
        self._enable_adapter_layers(False)
        try:
            yield self
        finally:
            self._enable_adapter_layers(True)
            for name, param in self.named_parameters():  # PEFT's re-enable would make every adapter weight trainable
                param.requires_grad_(trainable[name])

    # -- merging --------------------------------------------------------------------------------
    @torch.no_grad()
    def merge(self, role: RouteSpec, strategy: RouteSpec, safe_merge: bool = False) -> None:
        """Fold one route's combined update into W0 (single-route serving at base-model speed)."""
        if self._merged_route is not None:
            raise RuntimeError("already merged; call unmerge() first")
        role_probs, strategy_probs = self.route_probs("role", role), self.route_probs("strategy", strategy)
        if role_probs.shape[0] != 1 or strategy_probs.shape[0] != 1:
            raise RoutingError("merge() takes one role and one strategy")
        state = self._route_state(role_probs, strategy_probs)
        for _, layer in self.adapter_layers():
            layer.merge(safe_merge=safe_merge, coefficients=layer.coefficients_for(state)[0])
        self._merged_route = (role_probs, strategy_probs)

    def unmerge(self) -> None:
        for _, layer in self.adapter_layers():
            layer.unmerge()
        self._merged_route = None

    @property
    def merged_route(self) -> Optional[tuple[torch.Tensor, torch.Tensor]]:
        """``(role probs [1, N], strategy probs [1, M])`` of the route folded into the weights, or None."""
        return self._merged_route

    def is_merged_for(self, role: RouteSpec, strategy: RouteSpec) -> bool:
        if self._merged_route is None:
            return False
        role_p, strategy_p = self.route_probs("role", role), self.route_probs("strategy", strategy)
        return all(p.shape == m.shape and torch.allclose(p, m, atol=1e-6) for p, m in zip((role_p, strategy_p), self._merged_route))

    @torch.no_grad()
    def merge_route(self, role: RouteSpec, strategy: RouteSpec) -> bool:
        """Make ``(role, strategy)`` the merged route: nothing to do when it already is (returns False); another
        merged route is swapped in one pass per layer (:meth:`GroupMoELoraLayer.remerge`). Returns True on a change."""
        role_probs, strategy_probs = self.route_probs("role", role), self.route_probs("strategy", strategy)
        if role_probs.shape[0] != 1 or strategy_probs.shape[0] != 1:
            raise RoutingError("merge_route() takes one role and one strategy")
        if self.is_merged_for(role_probs, strategy_probs):
            return False
        if self._merged_route is None:
            self.merge(role_probs, strategy_probs)
            return True
        state = self._route_state(role_probs, strategy_probs)
        self._merged_route = None  # a failure half-way leaves no claim of a merged route behind
        try:
            for _, layer in self.adapter_layers():
                layer.remerge(layer.coefficients_for(state)[0])
        except BaseException:
            for _, layer in self.adapter_layers():
                layer.unmerge()
            raise
        self._merged_route = (role_probs, strategy_probs)
        return True

    def merge_and_unload(self, role: RouteSpec, strategy: RouteSpec) -> nn.Module:
        """The base model with one route folded in, adapter layers removed (a plain transformers model)."""
        self.merge(role, strategy)
        return self._unload()

    def unload(self) -> nn.Module:
        """The base model with the adapter layers removed and W0 restored."""
        self.unmerge()
        return self._unload()

    def _unload(self) -> nn.Module:
        self.__dict__.pop("_layer_cache", None)
        return self._unload_and_optionally_merge(merge=False)

    # -- activation (gradient) checkpointing -----------------------------------------------------
    def activation_checkpointing_enable(self, activation_checkpointing_kwargs: Optional[dict] = None, **kwargs) -> None:
        """Non-reentrant checkpointing only: the global gate's coefficients are computed once outside the
        checkpointed blocks, and reentrant recomputation would backpropagate through them once per layer."""
        options = {"use_reentrant": False, **(activation_checkpointing_kwargs or {})}
        if options["use_reentrant"]:
            raise ValueError("Group MoELoRA needs non-reentrant checkpointing (use_reentrant=False)")
        enable = getattr(self.model, "activation_checkpointing_enable", None)
        if enable is not None:
            enable(activation_checkpointing_kwargs=options, **kwargs)
        else:  # transformers < 5
            self.model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=options, **kwargs)

    def gradient_checkpointing_enable(self, gradient_checkpointing_kwargs: Optional[dict] = None, **kwargs) -> None:
        """Alias of :meth:`activation_checkpointing_enable` (the name transformers < 5 and Trainer use)."""
        self.activation_checkpointing_enable(gradient_checkpointing_kwargs, **kwargs)

    # -- saving / loading -----------------------------------------------------------------------
    def _adapter_tensors(self) -> dict[str, torch.Tensor]:
        """Saved name -> live tensor (sharing storage) for every adapter weight: what is saved and loaded."""
        tensors = {}
        for name, layer in self.adapter_layers():
            for attr in layer.adapter_layer_names:
                container = getattr(layer, attr)
                if ADAPTER_NAME not in container:
                    continue
                item = container[ADAPTER_NAME]
                if isinstance(item, nn.Module):
                    for key, tensor in item.state_dict().items():
                        tensors[f"{name}.{attr}.{key}"] = tensor
                else:
                    tensors[f"{name}.{attr}"] = item
        for key, tensor in self.moelora_gate.state_dict().items():
            tensors[GATE_PREFIX + key] = tensor
        return tensors

    def adapter_state_dict(self) -> dict[str, torch.Tensor]:
        """Only the adapter: expert A/B (and per-layer gates), embeddings/projections and the global gates."""
        return {k: v.detach().contiguous().cpu() for k, v in self._adapter_tensors().items()}

    def save_pretrained(self, save_directory: Union[str, os.PathLike], **kwargs) -> None:
        from safetensors.torch import save_file

        path = Path(save_directory)
        path.mkdir(parents=True, exist_ok=True)
        if self._merged_route is not None:
            warnings.warn("saving a merged model: the adapter weights are saved as they are (unmerged form)")
        self.adapter_config.save_pretrained(path)
        save_file(self.adapter_state_dict(), str(path / WEIGHTS_NAME), metadata={"format": "pt", "adapter": "empath-group-moelora"})

    def load_adapter_state_dict(self, state: dict[str, torch.Tensor], source: str = "state dict") -> None:
        expected = self._adapter_tensors()
        missing = sorted(set(expected) - set(state))
        unexpected = sorted(set(state) - set(expected))
        if missing or unexpected:
            raise AdapterLoadError(
                f"{source} does not match this base model's adapted layers: "
                f"missing {missing[:5]}{'…' if len(missing) > 5 else ''} ({len(missing)}), "
                f"unexpected {unexpected[:5]}{'…' if len(unexpected) > 5 else ''} ({len(unexpected)})"
            )
        wrong = [f"{k}: file {tuple(state[k].shape)} vs model {tuple(v.shape)}" for k, v in expected.items() if state[k].shape != v.shape]
        if wrong:
            raise AdapterLoadError(f"{source}: tensor shapes do not fit the base model: " + "; ".join(wrong[:5]))
        with torch.no_grad():
            for key, target in expected.items():
                target.copy_(state[key].to(target.dtype))

    @classmethod
    def from_pretrained(
        cls,
        model: nn.Module,
        model_id: Union[str, os.PathLike],
        revision: Optional[str] = None,
        is_trainable: bool = False,
        encoder: Any = None,
        **hub_kwargs,
    ) -> "GroupMoELoraModel":
        """Load an adapter from a local folder or a Hub repo (``org/name``, pinned with ``revision``) onto ``model``."""
        folder = _adapter_folder(model_id, revision, **hub_kwargs)
        config = GroupMoELoraConfig.from_pretrained(folder)
        _check_base_identity(config, model, folder)
        weights = folder / WEIGHTS_NAME
        state = read_adapter_weights(weights)
        features = None
        if config.embedding_init == "text":
            try:
                features = (state[GATE_PREFIX + "role_text_features"], state[GATE_PREFIX + "strategy_text_features"])
            except KeyError as exc:
                raise AdapterLoadError(f"{weights}: text-initialised adapter without {exc.args[0]}") from exc
            if features[0].shape[0] != len(config.role_names) or features[1].shape[0] != len(config.strategy_names):
                raise AdapterLoadError(f"{weights}: embedding rows do not match role_names/strategy_names in {CONFIG_NAME}")
        config.inference_mode = not is_trainable
        adapted = cls(model, config, encoder=encoder, _text_features=features)
        adapted.load_adapter_state_dict(state, source=str(weights))
        if not is_trainable:
            adapted.eval()
            for param in adapted.parameters():
                param.requires_grad_(False)
        return adapted

    def push_to_hub(
        self,
        repo_id: str,
        private: Optional[bool] = None,
        token: Optional[str] = None,
        commit_message: str = "Upload Group MoELoRA adapter",
        revision: Optional[str] = None,
        create_pr: bool = False,
    ):
        """Save to a temporary folder and upload it with ``huggingface_hub.HfApi().upload_folder``."""
        from huggingface_hub import HfApi

        api = HfApi(token=token)
        api.create_repo(repo_id, private=private, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            self.save_pretrained(tmp)
            (Path(tmp) / "README.md").write_text(_model_card(self.adapter_config, repo_id), encoding="utf-8")
            return api.upload_folder(
                repo_id=repo_id, folder_path=tmp, commit_message=commit_message, revision=revision, create_pr=create_pr
            )


def _model_card(config: GroupMoELoraConfig, repo_id: str) -> str:
    base = config.base_model_name_or_path
    return (
        "---\n"
        + (f"base_model: {base}\n" if base and "/" in str(base) and not Path(str(base)).exists() else "")
        + "library_name: empath\ntags:\n- empath\n- group-moelora\n- emotional-support\n---\n\n"
        f"# {repo_id}\n\nGroup MoELoRA adapter for Empath ({config.num_role_experts} role experts + "
        f"{config.num_strategy_experts} strategy experts, r={config.r}, beta={config.beta}).\n\n"
        f"Roles: {', '.join(config.role_names)}\n\nStrategies: {', '.join(config.strategy_names)}\n\n"
        "```python\nfrom empath.group_moelora import GroupMoELoraModel\n"
        f"model = GroupMoELoraModel.from_pretrained(base_model, \"{repo_id}\")\n```\n"
    )


def _adapter_folder(model_id: Union[str, os.PathLike], revision: Optional[str], **hub_kwargs) -> Path:
    local = Path(str(model_id)).expanduser()
    if local.is_dir():
        return local
    from empath import hub

    ref = hub.ModelRef.parse(str(model_id) + (f"@{revision}" if revision and "@" not in str(model_id) else ""))
    if ref.path is not None:
        raise AdapterLoadError(f"{model_id} is a file, not an adapter folder")
    return Path(hub.snapshot(ref.repo_id, ref.revision, **hub_kwargs))


def read_adapter_weights(path: Path) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    if not path.exists():
        raise AdapterLoadError(f"{path}: adapter weights not found")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise AdapterLoadError(f"{path}: not a readable safetensors file (corrupt or truncated?): {exc}") from exc


def _check_base_identity(config: GroupMoELoraConfig, model: nn.Module, folder: Path) -> None:
    saved = config.base_model_info or {}
    current = base_model_identity(model)
    diffs = [f"{k}: adapter {saved[k]!r} vs model {current[k]!r}" for k in saved if k in current and saved[k] != current[k]]
    if diffs:
        raise AdapterLoadError(
            f"{folder / CONFIG_NAME}: the adapter was trained on a different base model "
            f"({config.base_model_name_or_path or 'unnamed'}): " + "; ".join(diffs)
        )


def get_group_moelora_model(
    model: nn.Module,
    config: GroupMoELoraConfig,
    *,
    encoder: Any = None,
    role_texts: Optional[Sequence[str]] = None,
    strategy_texts: Optional[Sequence[str]] = None,
) -> GroupMoELoraModel:
    """Wrap ``model`` with a fresh Group MoELoRA adapter; only the adapter parameters stay trainable.

    With ``embedding_init="text"`` the role profiles / strategy definitions (default: ``Role.profile_text`` and
    ``Strategy.definition`` in ``config.text_lang``) are encoded by ``encoder`` (an object with ``.encode(texts)``
    or a callable ``texts -> [n, dim]`` array; default ``empath.encoders.get_encoder(config.text_encoder)``)."""
    # A copy: the model fills in target modules, base-model identity and encoder size for *this* base model.
    config = copy.deepcopy(config)
    return GroupMoELoraModel(model, config, encoder=encoder, role_texts=role_texts, strategy_texts=strategy_texts)
