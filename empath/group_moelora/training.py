"""Fine-tune a Group MoELoRA adapter on Empath dialogue data with ``transformers.Trainer``.

Every supporter turn with a strategy is one example: the prompt is the serving prompt (``empath.prompts``: persona +
strategy system message, then the dialogue so far) rendered with the base tokenizer's chat template, the target is
the supporter's reply, and only the reply's tokens carry loss. The example is routed by the dialogue's
``background.role`` and the turn's ``strategy``. Defaults follow the paper (Appendix E, Table 6): AdamW, learning
rate 1e-5, 1 epoch, seed 42, 4096 source / 256 target tokens.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Optional, Sequence, Union

import torch

from .config import GroupMoELoraConfig
from .model import GroupMoELoraModel, get_group_moelora_model

logger = logging.getLogger(__name__)


def _checkpointing_arg() -> str:
    import dataclasses

    from transformers import TrainingArguments

    names = {f.name for f in dataclasses.fields(TrainingArguments)}
    return "activation_checkpointing" if "activation_checkpointing" in names else "gradient_checkpointing"


def build_examples(
    dialogues: Sequence,
    tokenizer,
    role_names: Sequence[str],
    strategy_names: Sequence[str],
    max_source_length: int = 4096,
    max_target_length: int = 256,
) -> tuple[list[dict], list[str]]:
    """Tokenised examples ``{input_ids, labels, role_ids, strategy_ids}`` and the reasons turns were skipped."""
    from empath.prompts import PromptParts, build_messages
    from empath.roles import load_roles

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


class RoutedCollator:
    """Right-pads a batch and keeps the per-sample route ids."""

    left_pad = False

    def __init__(self, pad_token_id: int):
        self.pad_token_id = pad_token_id

    def __call__(self, features: list[dict]) -> dict[str, torch.Tensor]:
        width = max(len(f["input_ids"]) for f in features)

        def pad(row, value):
            fill = [value] * (width - len(row))
            return fill + row if self.left_pad else row + fill

        return {
            "input_ids": torch.tensor([pad(f["input_ids"], self.pad_token_id) for f in features]),
            "labels": torch.tensor([pad(f["labels"], -100) for f in features]),
            "attention_mask": torch.tensor([pad([1] * len(f["input_ids"]), 0) for f in features]),
            "role_ids": torch.tensor([f["role_ids"] for f in features]),
            "strategy_ids": torch.tensor([f["strategy_ids"] for f in features]),
        }


class ReplyOnlyCollator(RoutedCollator):
    """Left-pads a batch so every reply ends at the last position, and asks the model for logits over the last
    ``logits_to_keep`` positions only: the 49k-word vocabulary projection then runs on the reply, not the prompt
    (the largest single saving for a small model with a large vocabulary)."""

    left_pad = True

    def __call__(self, features: list[dict]) -> dict[str, torch.Tensor]:
        batch = super().__call__(features)
        reply = max(sum(1 for x in f["labels"] if x != -100) for f in features)
        mask = batch["attention_mask"]
        batch["position_ids"] = (mask.cumsum(-1) - 1).clamp(min=0)  # left padding must not shift positions
        batch["logits_to_keep"] = torch.tensor(min(reply + 1, mask.shape[1]))
        return batch


def reply_loss(model, inputs: dict) -> torch.Tensor:
    """Mean cross-entropy of the label tokens, computing logits only over the last ``logits_to_keep`` positions."""
    inputs = dict(inputs)
    labels = inputs.pop("labels")
    keep = int(inputs.pop("logits_to_keep"))
    logits = model(**inputs, logits_to_keep=keep).logits  # positions L-keep .. L-1
    targets = labels[:, labels.shape[1] - keep + 1:]  # position t predicts token t+1
    return torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]).float(),
                                             targets.reshape(-1), ignore_index=-100)


def _trainer_class():
    from transformers import Trainer

    class GroupMoELoraTrainer(Trainer):
        """Checkpoints hold the adapter only (adapter_config.json + adapter_model.safetensors) plus the Trainer's
        optimiser/scheduler/RNG state, so an interrupted run resumes where it stopped."""

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            if "logits_to_keep" not in inputs:
                return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
            loss = reply_loss(model, inputs)
            return (loss, None) if return_outputs else loss

        def _save(self, output_dir: Optional[str] = None, state_dict=None):
            output_dir = output_dir or self.args.output_dir
            self.model.save_pretrained(output_dir)
            if self.processing_class is not None:
                self.processing_class.save_pretrained(output_dir)

        def _load_from_checkpoint(self, resume_from_checkpoint: str, model=None) -> None:
            from .config import WEIGHTS_NAME
            from .model import read_adapter_weights

            weights = Path(resume_from_checkpoint) / WEIGHTS_NAME
            (model or self.model).load_adapter_state_dict(read_adapter_weights(weights), source=str(weights))

    return GroupMoELoraTrainer


def last_checkpoint(output_dir: Union[str, os.PathLike]) -> Optional[str]:
    """The newest ``checkpoint-N`` folder under ``output_dir`` (None if there is none)."""
    from transformers.trainer_utils import get_last_checkpoint

    return get_last_checkpoint(str(output_dir)) if Path(output_dir).is_dir() else None


def train(
    base_model: Union[str, os.PathLike, torch.nn.Module],
    data: Union[str, os.PathLike, Sequence],
    output_dir: Union[str, os.PathLike],
    *,
    tokenizer=None,
    config: Optional[GroupMoELoraConfig] = None,
    encoder: Any = None,
    data_format: str = "auto",
    max_steps: int = -1,
    num_train_epochs: float = 1.0,
    learning_rate: float = 1e-5,
    per_device_train_batch_size: int = 1,
    gradient_accumulation_steps: int = 1,
    max_source_length: int = 4096,
    max_target_length: int = 256,
    seed: int = 42,
    gradient_checkpointing: bool = False,
    logging_steps: int = 10,
    save_steps: Optional[int] = None,
    push_to_hub: Optional[str] = None,
    hub_private: Optional[bool] = None,
    examples: Optional[Sequence[dict]] = None,
    reply_logits_only: bool = False,
    group_by_length: bool = False,
    warmup_steps: int = 0,
    lr_scheduler_type: str = "linear",
    save_total_limit: Optional[int] = 2,
    resume: bool = False,
    threads: Optional[int] = None,
    callbacks: Optional[list] = None,
) -> GroupMoELoraModel:
    """Train a Group MoELoRA adapter, save it to ``output_dir`` and optionally push it to the Hub repo ``push_to_hub``.

    ``base_model``: a model reference for ``empath.hub.load_causal_lm`` or a loaded model (then pass ``tokenizer``).
    ``data``: a dialogue file for ``empath.dialogue.read_dialogues`` or a list of ``Dialogue``; ``examples``:
    already tokenised examples (``build_examples``' shape) used instead of ``data``. ``reply_logits_only``: left-pad
    and compute the vocabulary logits on reply positions only (same loss, faster). ``resume``: continue from the
    newest checkpoint in ``output_dir``, if any."""
    from transformers import TrainingArguments, set_seed

    if threads:
        torch.set_num_threads(threads)
    if examples is None and isinstance(data, (str, os.PathLike)):  # read (and validate) the data before loading a large model
        from empath.dialogue import read_dialogues

        data = read_dialogues(data, format=data_format)
    set_seed(seed)  # before the adapter is created: its initial weights are part of the run
    if isinstance(base_model, torch.nn.Module):
        if tokenizer is None:
            raise ValueError("pass the tokenizer together with a loaded base model")
        model = base_model
    else:
        from empath.hub import load_causal_lm

        model, loaded_tokenizer = load_causal_lm(base_model)
        tokenizer = tokenizer or loaded_tokenizer
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    config = config or (model.adapter_config if isinstance(model, GroupMoELoraModel) else GroupMoELoraConfig())
    # an adapter already on the model (continued training) is trained further, not wrapped again
    adapted = model if isinstance(model, GroupMoELoraModel) else get_group_moelora_model(model, config, encoder=encoder)
    adapted.print_trainable_parameters()
    if examples is None:
        examples, skipped = build_examples(
            data, tokenizer, config.role_names, config.strategy_names, max_source_length, max_target_length
        )
        if skipped:
            logger.warning("skipped %d supporter turns/dialogues, e.g. %s", len(skipped), skipped[:3])
        if not examples:
            raise ValueError(f"no trainable supporter turns in {len(data)} dialogues (skipped: {skipped[:5]})")
    examples = list(examples)
    args = TrainingArguments(
        output_dir=str(output_dir),
        max_steps=max_steps,
        num_train_epochs=num_train_epochs,
        learning_rate=learning_rate,
        per_device_train_batch_size=per_device_train_batch_size,
        gradient_accumulation_steps=gradient_accumulation_steps,
        optim="adamw_torch",
        seed=seed,
        data_seed=seed,
        logging_steps=logging_steps,
        save_strategy="steps" if save_steps else "no",
        save_steps=save_steps or 500,
        save_total_limit=save_total_limit,
        warmup_steps=warmup_steps,
        lr_scheduler_type=lr_scheduler_type,
        train_sampling_strategy="group_by_length" if group_by_length else "random",
        **{_checkpointing_arg(): gradient_checkpointing},
        remove_unused_columns=False,  # the route ids are forward() keyword arguments Trainer cannot see by name
        report_to="none",
    )
    trainer = _trainer_class()(
        model=adapted, args=args, train_dataset=examples,
        data_collator=(ReplyOnlyCollator if reply_logits_only else RoutedCollator)(tokenizer.pad_token_id),
        processing_class=tokenizer, callbacks=callbacks,
    )
    checkpoint = last_checkpoint(output_dir) if resume else None
    if checkpoint:
        logger.warning("resuming from %s", checkpoint)
    trainer.train(resume_from_checkpoint=checkpoint)
    adapted.eval()
    Path(output_dir).mkdir(parents=True, exist_ok=True)
    adapted.save_pretrained(output_dir)
    if push_to_hub:
        adapted.push_to_hub(push_to_hub, private=hub_private)
    return adapted
