"""GroupMoELoraModel: injects Group MoELoRA layers into a Hugging Face causal LM and routes each sample by role and
strategy (routing values: :mod:`.routing`; saving / loading / pushing: :mod:`.persistence`).

Routing never touches transformers' model code: ``forward``/``generate`` pop ``role_ids``/``strategy_ids`` (or
``role_weights``/``strategy_weights``), compute the per-sample gate coefficients once and hand them to every adapter
layer before calling the wrapped model.
"""

from __future__ import annotations

import contextlib
import copy
import os
from typing import Any, Mapping, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn as nn
from peft.tuners.tuners_utils import BaseTuner

from . import persistence
from .config import ADAPTER_NAME, DEFAULT_TARGET_MODULES, LLAMA_STYLE_TARGETS, WEIGHTS_NAME, GroupMoELoraConfig
from .layer import GroupGate, GroupMoELoraLayer, RouteState
from .persistence import base_model_identity
from .routing import LabelResolver, RouteSpec, RoutingError, route_probs

def encode_texts(encoder: Any, texts: list[str]) -> torch.Tensor:
    """Vectors ``[len(texts), dim]`` from an object with ``.encode(texts)`` or a callable ``texts -> array``."""
    vectors = encoder.encode(texts) if hasattr(encoder, "encode") else encoder(texts)
    vectors = torch.as_tensor(np.asarray(vectors, dtype=np.float32))
    if vectors.dim() != 2 or vectors.shape[0] != len(texts):
        raise ValueError(f"the encoder returned shape {tuple(vectors.shape)} for {len(texts)} texts")
    return vectors


def _text_features(config: GroupMoELoraConfig, encoder: Any, role_texts, strategy_texts) -> tuple[torch.Tensor, torch.Tensor]:
    """The frozen sentence vectors behind text-initialised embeddings, one row per role / strategy name."""
    if encoder is None or role_texts is None or strategy_texts is None:
        raise ValueError("embedding_init='text' needs encoder= (texts -> vectors) and role_texts= / strategy_texts= "
                         "(one text per role / strategy name), or use embedding_init='learned'")
    for group, texts, names in (("role", role_texts, config.role_names), ("strategy", strategy_texts, config.strategy_names)):
        if len(texts) != len(names):
            raise ValueError(f"{len(texts)} {group} texts for {len(names)} {group} names")
    return encode_texts(encoder, list(role_texts)), encode_texts(encoder, list(strategy_texts))


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
        label_resolvers: Optional[Mapping[str, LabelResolver]] = None,
        _text_features: Optional[tuple[torch.Tensor, torch.Tensor]] = None,
    ) -> None:
        if not isinstance(config, GroupMoELoraConfig):
            raise TypeError(f"expected a GroupMoELoraConfig, got {type(config).__name__}")
        # Read by _pre_injection_hook, which BaseTuner.__init__ calls before the layers are injected.
        self._gate_inputs = dict(encoder=encoder, role_texts=role_texts, strategy_texts=strategy_texts, features=_text_features)
        super().__init__(model, config, adapter_name)
        self._encoder = self._gate_inputs.pop("encoder")  # kept for add_role
        del self._gate_inputs
        self.label_resolvers: dict[str, LabelResolver] = dict(label_resolvers or {})
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
            inputs = self._gate_inputs
            features = _text_features(config, inputs["encoder"], inputs["role_texts"], inputs["strategy_texts"])
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
        names = self.role_names if group == "role" else self.strategy_names
        return route_probs(group, value, names, self.label_resolvers.get(group))

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
            raise ValueError(f"add_role needs a text encoder ({config.text_encoder}): pass encoder= here or when "
                             "the adapter is created or loaded")
        features = encode_texts(encoder, [profile_text])
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

    # -- saving / loading (persistence.py) -----------------------------------------------------------
    def adapter_state_dict(self) -> dict[str, torch.Tensor]:
        """Only the adapter: expert A/B (and per-layer gates), embeddings/projections and the global gates."""
        return {k: v.detach().contiguous().cpu() for k, v in persistence.adapter_tensors(self).items()}

    def load_adapter_state_dict(self, state: dict[str, torch.Tensor], source: str = "state dict") -> None:
        """Copy saved adapter tensors in; :class:`AdapterLoadError` when they do not fit this base model."""
        persistence.load_adapter_tensors(self, state, source)

    def save_pretrained(self, save_directory: Union[str, os.PathLike], **kwargs) -> None:
        """Write ``adapter_config.json`` + ``adapter_model.safetensors`` (adapter tensors only)."""
        persistence.save_adapter(self, save_directory)

    @classmethod
    def from_pretrained(
        cls,
        model: nn.Module,
        model_id: Union[str, os.PathLike],
        revision: Optional[str] = None,
        is_trainable: bool = False,
        encoder: Any = None,
        label_resolvers: Optional[Mapping[str, LabelResolver]] = None,
        download: Optional[persistence.Download] = None,
        **hub_kwargs,
    ) -> "GroupMoELoraModel":
        """Load an adapter from a local folder or a Hub repo (``org/name``, pinned with ``revision``) onto ``model``.

        ``encoder`` (for :meth:`add_role`) and ``label_resolvers`` (aliases per group) are the caller's; ``download``
        fetches a Hub repo (default :func:`persistence.hub_snapshot`)."""
        folder = persistence.adapter_folder(model_id, revision, download, **hub_kwargs)
        config = GroupMoELoraConfig.from_pretrained(folder)
        persistence.check_base_identity(config, model, folder)
        weights = folder / WEIGHTS_NAME
        state = persistence.read_adapter_weights(weights)
        features = persistence.saved_text_features(config, state, weights)
        config.inference_mode = not is_trainable
        adapted = cls(model, config, encoder=encoder, label_resolvers=label_resolvers, _text_features=features)
        adapted.load_adapter_state_dict(state, source=str(weights))
        if not is_trainable:
            adapted.eval()
            for param in adapted.parameters():
                param.requires_grad_(False)
        return adapted

    def push_to_hub(self, repo_id: str, private: Optional[bool] = None, token: Optional[str] = None,
                    commit_message: str = "Upload Group MoELoRA adapter", revision: Optional[str] = None,
                    create_pr: bool = False):
        """Save to a temporary folder and upload it with ``huggingface_hub.HfApi().upload_folder``."""
        return persistence.push_adapter(self, repo_id, private, token, commit_message, revision, create_pr)


def get_group_moelora_model(
    model: nn.Module,
    config: GroupMoELoraConfig,
    *,
    encoder: Any = None,
    role_texts: Optional[Sequence[str]] = None,
    strategy_texts: Optional[Sequence[str]] = None,
    label_resolvers: Optional[Mapping[str, LabelResolver]] = None,
) -> GroupMoELoraModel:
    """Wrap ``model`` with a fresh Group MoELoRA adapter; only the adapter parameters stay trainable.

    With ``embedding_init="text"`` the ``role_texts`` / ``strategy_texts`` (one per name in ``config``) are encoded
    by ``encoder`` (an object with ``.encode(texts)`` or a callable ``texts -> [n, dim]`` array). ``label_resolvers``
    maps a group (``"role"`` / ``"strategy"``) to a function from an alias to one of its names."""
    # A copy: the model fills in target modules, base-model identity and encoder size for *this* base model.
    config = copy.deepcopy(config)
    return GroupMoELoraModel(model, config, encoder=encoder, role_texts=role_texts, strategy_texts=strategy_texts,
                             label_resolvers=label_resolvers)
