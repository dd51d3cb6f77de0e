"""Fine-tune a Group MoELoRA adapter with ``transformers.Trainer`` on routed examples.

An example is ``{input_ids, labels, role_ids, strategy_ids}`` (labels -100 where no loss is wanted); the caller builds
them from its data (Empath: ``empath.adapter.build_examples``). Defaults follow the paper (Appendix E, Table 6):
AdamW, learning rate 1e-5, 1 epoch, seed 42.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Optional, Sequence, Union

import torch

from .config import WEIGHTS_NAME
from .model import GroupMoELoraModel
from .persistence import read_adapter_weights

logger = logging.getLogger(__name__)


def _checkpointing_arg() -> str:
    import dataclasses

    from transformers import TrainingArguments

    names = {f.name for f in dataclasses.fields(TrainingArguments)}
    return "activation_checkpointing" if "activation_checkpointing" in names else "gradient_checkpointing"


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
            weights = Path(resume_from_checkpoint) / WEIGHTS_NAME
            (model or self.model).load_adapter_state_dict(read_adapter_weights(weights), source=str(weights))

    return GroupMoELoraTrainer


def last_checkpoint(output_dir: Union[str, os.PathLike]) -> Optional[str]:
    """The newest ``checkpoint-N`` folder under ``output_dir`` (None if there is none)."""
    from transformers.trainer_utils import get_last_checkpoint

    return get_last_checkpoint(str(output_dir)) if Path(output_dir).is_dir() else None


def training_arguments(
    output_dir: Union[str, os.PathLike],
    *,
    max_steps: int = -1,
    num_train_epochs: float = 1.0,
    learning_rate: float = 1e-5,
    per_device_train_batch_size: int = 1,
    gradient_accumulation_steps: int = 1,
    seed: int = 42,
    gradient_checkpointing: bool = False,
    logging_steps: int = 10,
    save_steps: Optional[int] = None,
    group_by_length: bool = False,
    warmup_steps: int = 0,
    lr_scheduler_type: str = "linear",
    save_total_limit: Optional[int] = 2,
):
    """``transformers.TrainingArguments`` for a Group MoELoRA run (AdamW; checkpoints every ``save_steps``)."""
    from transformers import TrainingArguments

    return TrainingArguments(
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


def train(
    adapted: GroupMoELoraModel,
    examples: Sequence[dict],
    output_dir: Union[str, os.PathLike],
    *,
    tokenizer,
    reply_logits_only: bool = False,
    resume: bool = False,
    callbacks: Optional[list] = None,
    push_to_hub: Optional[str] = None,
    hub_private: Optional[bool] = None,
    **training_options,
) -> GroupMoELoraModel:
    """Train ``adapted`` on tokenised ``examples``, save it to ``output_dir`` and optionally push it to the Hub repo
    ``push_to_hub``. ``reply_logits_only``: left-pad and compute the vocabulary logits on reply positions only (same
    loss, faster). ``resume``: continue from the newest checkpoint in ``output_dir``, if any. Other keyword arguments
    go to :func:`training_arguments`."""
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    trainer = _trainer_class()(
        model=adapted, args=training_arguments(output_dir, **training_options), train_dataset=list(examples),
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
