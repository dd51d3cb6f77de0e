"""Empath's side of Group MoELoRA. The tuner (``empath.group_moelora``) knows nothing of Empath; here the route names
and texts come from the role bank and the strategy bank, the text encoder from ``empath.encoders``, strategy aliases
from ``empath.strategies``, Hub references from ``empath.hub``, and training examples from Empath dialogues with the
serving prompt (``empath.prompts``)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Optional, Sequence, Union

import torch

from .group_moelora import GroupMoELoraConfig, GroupMoELoraModel, get_group_moelora_model, persistence

logger = logging.getLogger(__name__)


def route_names(roles=None) -> tuple[list[str], list[str]]:
    """The route names of an Empath adapter: the role bank's ids (default bank) and the ESConv strategies."""
    from .roles import load_roles
    from .strategies import STRATEGY_NAMES

    return list((roles or load_roles()).ids), list(STRATEGY_NAMES)


def route_texts(role_names: Sequence[str], strategy_names: Sequence[str], lang: str = "en", roles=None
                ) -> tuple[list[str], list[str]]:
    """The texts behind text-initialised embeddings: each persona's profile and each strategy's definition."""
    from .roles import load_roles
    from .strategies import get_strategy

    bank = roles or load_roles()
    return [bank.get(name).profile_text(lang) for name in role_names], [get_strategy(n).definition(lang) for n in strategy_names]


def _strategy_alias(label: str) -> Optional[str]:
    from .strategies import UnknownStrategyError, normalize_strategy

    try:
        return normalize_strategy(label)
    except UnknownStrategyError:
        return None


# Other spellings of a strategy ("[Question]", Chinese names, ...) route like the ESConv name.
LABEL_RESOLVERS = {"strategy": _strategy_alias}


class LazyEncoder:
    """The ``empath.encoders`` sentence encoder named by an adapter, loaded on the first ``encode`` only (a loaded
    adapter needs it just to add a persona)."""

    def __init__(self, name: str):
        self.name = name
        self._encoder = None

    def encode(self, texts: list[str]):
        """Sentence vectors ``[len(texts), dim]``."""
        if self._encoder is None:
            from .encoders import get_encoder

            self._encoder = get_encoder(self.name)
        return self._encoder.encode(texts)


def adapter_config(**fields) -> GroupMoELoraConfig:
    """A :class:`GroupMoELoraConfig` whose route names default to Empath's personas and strategies."""
    if fields.get("role_names") is None or fields.get("strategy_names") is None:
        roles, strategies = route_names()
        fields["role_names"] = fields.get("role_names") or roles
        fields["strategy_names"] = fields.get("strategy_names") or strategies
    return GroupMoELoraConfig(**fields)


def create_adapter(base_model, config: Optional[GroupMoELoraConfig] = None, *, encoder=None,
                   role_texts: Optional[Sequence[str]] = None, strategy_texts: Optional[Sequence[str]] = None,
                   roles=None) -> GroupMoELoraModel:
    """A fresh Empath adapter on ``base_model`` (config default: the paper's values over Empath's routes); the
    texts default to the profiles / definitions in ``config.text_lang``, the encoder to ``config.text_encoder``."""
    config = config or adapter_config()
    if config.embedding_init == "text":
        default_role_texts, default_strategy_texts = route_texts(config.role_names, config.strategy_names,
                                                                 config.text_lang, roles)
        role_texts, strategy_texts = role_texts or default_role_texts, strategy_texts or default_strategy_texts
    return get_group_moelora_model(base_model, config, encoder=encoder or LazyEncoder(config.text_encoder),
                                   role_texts=role_texts, strategy_texts=strategy_texts,
                                   label_resolvers=LABEL_RESOLVERS)


def adapter_folder(ref: Union[str, os.PathLike], revision: Optional[str] = None) -> Path:
    """A local folder for an adapter reference: a folder, or a Hub ``org/name[@revision]`` via ``empath.hub``."""
    from . import hub

    def snapshot(repo_id: str, pinned: Optional[str]) -> Path:
        parsed = hub.ModelRef.parse(f"{repo_id}@{pinned}" if pinned else repo_id)  # a clear error for a bad id
        return hub.snapshot(parsed.repo_id, parsed.revision)

    return persistence.adapter_folder(ref, revision, download=snapshot)


def load_adapter(base_model, ref: Union[str, os.PathLike], *, revision: Optional[str] = None,
                 is_trainable: bool = False, encoder=None) -> GroupMoELoraModel:
    """Load the Group MoELoRA adapter ``ref`` (a folder or a Hub ``org/name[@revision]``) onto ``base_model``."""
    folder = adapter_folder(ref, revision)
    config = GroupMoELoraConfig.from_pretrained(folder)
    return GroupMoELoraModel.from_pretrained(base_model, folder, is_trainable=is_trainable,
                                             encoder=encoder or LazyEncoder(config.text_encoder),
                                             label_resolvers=LABEL_RESOLVERS)


def export_lora(adapter: Union[str, os.PathLike], role, strategy, out_dir: Union[str, os.PathLike], **options) -> dict:
    """:func:`empath.group_moelora.export.export_lora` with Empath's references: Hub adapters via ``empath.hub``,
    the offline default base model by name, strategy aliases."""
    from .group_moelora.export import export_lora as export_route
    from .hub import resolve_model

    folder = adapter_folder(adapter, options.pop("revision", None))
    return export_route(folder, role, strategy, out_dir, resolve_base=resolve_model, label_resolvers=LABEL_RESOLVERS,
                        **options)


# -- training on Empath dialogues -------------------------------------------------------------------
def build_examples(
    dialogues: Sequence,
    tokenizer,
    role_names: Sequence[str],
    strategy_names: Sequence[str],
    max_source_length: int = 4096,
    max_target_length: int = 256,
) -> tuple[list[dict], list[str]]:
    """Tokenised examples ``{input_ids, labels, role_ids, strategy_ids}`` and the reasons turns were skipped.

    Every supporter turn with a strategy is one example, routed by the dialogue's ``background.role`` and the turn's
    ``strategy``: the prompt is the serving prompt (persona + strategy system message, then the dialogue so far)
    rendered with the tokenizer's chat template, and only the reply's tokens carry loss."""
    from .prompts import PromptParts, build_messages
    from .roles import load_roles

    bank = load_roles()
    examples, skipped = [], []
    eos = tokenizer.eos_token or ""
    for dialogue in dialogues:
        role_id = dialogue.background.role
        if role_id not in role_names:
            skipped.append(f"{dialogue.id}: role {role_id!r} is not one of the adapter's roles")
            continue
        for index, (context, target) in enumerate(dialogue.supporter_targets()):
            if target.strategy not in strategy_names:
                skipped.append(f"{dialogue.id} supporter turn {index}: strategy {target.strategy!r} is not routable")
                continue
            parts = PromptParts(role=bank.get(role_id), strategy=target.strategy, experience_text=None, lang=dialogue.lang)
            messages = build_messages(parts, [(turn.speaker, turn.text) for turn in context])
            prompt_text = render_prompt(tokenizer, messages)
            prompt = tokenizer(prompt_text, add_special_tokens=False)["input_ids"][-max_source_length:]
            reply = tokenizer(target.text.strip() + eos, add_special_tokens=False)["input_ids"][:max_target_length]
            examples.append({
                "input_ids": prompt + reply,
                "labels": [-100] * len(prompt) + reply,
                "role_ids": role_names.index(role_id),
                "strategy_ids": strategy_names.index(target.strategy),
            })
    return examples, skipped


def render_prompt(tokenizer, messages: list[dict]) -> str:
    """The chat template with the assistant turn opened; a plain ``role: text`` layout if the tokenizer has none."""
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return "".join(f"{m['role']}: {m['content']}\n" for m in messages) + "assistant: "


def _base_and_tokenizer(base_model, tokenizer):
    """A loaded base model (or an adapter to train further) and its tokenizer."""
    if isinstance(base_model, torch.nn.Module):
        if tokenizer is None:
            raise ValueError("pass the tokenizer together with a loaded base model")
        return base_model, tokenizer
    from .hub import load_causal_lm

    model, loaded_tokenizer = load_causal_lm(base_model)
    return model, tokenizer or loaded_tokenizer


def train(
    base_model: Union[str, os.PathLike, torch.nn.Module],
    data: Union[str, os.PathLike, Sequence],
    output_dir: Union[str, os.PathLike],
    *,
    tokenizer=None,
    config: Optional[GroupMoELoraConfig] = None,
    encoder=None,
    data_format: str = "auto",
    max_source_length: int = 4096,
    max_target_length: int = 256,
    seed: int = 42,
    examples: Optional[Sequence[dict]] = None,
    threads: Optional[int] = None,
    **training_options,
) -> GroupMoELoraModel:
    """Train an Empath adapter on dialogue data (Table 6 defaults: AdamW, lr 1e-5, 1 epoch, seed 42, 4096 / 256
    tokens), save it to ``output_dir`` and optionally push it (``push_to_hub=REPO``).

    ``base_model``: a reference for ``empath.hub.load_causal_lm`` or a loaded model (then pass ``tokenizer``); a
    loaded GroupMoELoraModel is trained further. ``data``: a dialogue file for ``empath.dialogue.read_dialogues`` or
    a list of ``Dialogue``; ``examples``: already tokenised examples (:func:`build_examples`' shape) used instead.
    Other keyword arguments go to :func:`empath.group_moelora.training.train` (``max_steps``, ``learning_rate``,
    ``reply_logits_only``, ``resume``, ``save_steps``, ...)."""
    from transformers import set_seed

    from .group_moelora.training import train as train_adapter

    if threads:
        torch.set_num_threads(threads)
    if examples is None and isinstance(data, (str, os.PathLike)):  # read (and validate) the data before loading a large model
        from .dialogue import read_dialogues

        data = read_dialogues(data, format=data_format)
    set_seed(seed)  # before the adapter is created: its initial weights are part of the run
    model, tokenizer = _base_and_tokenizer(base_model, tokenizer)
    if isinstance(model, GroupMoELoraModel):  # continued training: the adapter already on the model
        adapted = model
    else:
        adapted = create_adapter(model, config, encoder=encoder)
    adapted.print_trainable_parameters()
    if examples is None:
        config = adapted.adapter_config
        examples, skipped = build_examples(data, tokenizer, config.role_names, config.strategy_names,
                                           max_source_length, max_target_length)
        if skipped:
            logger.warning("skipped %d supporter turns/dialogues, e.g. %s", len(skipped), skipped[:3])
        if not examples:
            raise ValueError(f"no trainable supporter turns in {len(data)} dialogues (skipped: {skipped[:5]})")
    return train_adapter(adapted, examples, output_dir, tokenizer=tokenizer, seed=seed, **training_options)
