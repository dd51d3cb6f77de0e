"""The backends, one scorer per (task, language), all behind :class:`~empath.classifiers.base.Scorer`."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Sequence

import numpy as np

from .._data import DataFileError
from ..dialogue import Background, Turn
from .base import CONFIG_NAME, FINETUNED, FROZEN, ROLE_TASK, SIMILARITY, STRATEGY_FEATURES, STRATEGY_TASK, Scorer
from ..encoder_cache import CachedEncoder
from .features import strategy_features
from .inputs import strategy_pair
from .mlp import MLPHead


class FrozenEncoderScorer(Scorer):
    """A frozen sentence encoder + an :class:`MLPHead`."""

    backend = FROZEN

    def __init__(self, task: str, encoder: str, head: MLPHead, features: str | None = None, **extra):
        self.task, self.encoder_name, self.head = task, encoder, head
        self.features = features or (STRATEGY_FEATURES if task == STRATEGY_TASK else "role-text/1")
        self.extra = extra
        if task == STRATEGY_TASK and self.features != STRATEGY_FEATURES:
            raise DataFileError(f"strategy head uses features {self.features!r}; this Empath computes {STRATEGY_FEATURES!r}")

    @property
    def labels(self) -> tuple[str, ...]:
        return self.head.labels

    def role_features(self, texts: Sequence[str], encoder: CachedEncoder | None = None) -> np.ndarray:
        return (encoder or self.encoder).encode(texts)

    def strategy_features(self, items: Sequence[tuple[Background, list[Turn]]], progress: bool = False) -> np.ndarray:
        return strategy_features(items, self.encoder, progress)

    def proba(self, task_inputs, progress: bool = False) -> np.ndarray:
        if self.task == ROLE_TASK:
            return self.head.proba(self.role_features(task_inputs))
        return self.head.proba(self.strategy_features(task_inputs, progress=progress))

    def role_scores(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        embeddings = self.role_features(texts)  # encoded once: the head and the similarity fallback share them
        return self.head.proba(embeddings), embeddings

    def save(self, folder: Path, stem: str) -> dict:
        return self._save_weights(self.head, folder, stem)

    @classmethod
    def from_config(cls, task: str, folder: Path, cfg: dict) -> "FrozenEncoderScorer":
        extra = cls._extra(cfg)
        head = MLPHead.load(folder / cfg["weights"], cfg.get("labels"))
        return cls(task, cfg["encoder"], head, cfg.get("features"), **extra)


_TRUNCATION_LOCK = threading.Lock()


def tokenize_inputs(tokenizer, texts: Sequence[str | tuple[str, str]], max_length: int, **kwargs):
    """Tokenise plain texts, or (background, context) pairs whose overflow is cut from the left: the
    oldest context turns go first and the seeker's latest words always stay (a plain right cut would drop
    exactly the turn the next strategy answers)."""
    if not texts or not isinstance(texts[0], tuple):
        return tokenizer(list(texts), truncation=True, max_length=max_length, **kwargs)
    with _TRUNCATION_LOCK:  # the side is tokenizer state; other threads may share this tokenizer
        side, tokenizer.truncation_side = tokenizer.truncation_side, "left"
        try:
            return tokenizer([a for a, _ in texts], [b for _, b in texts], truncation="longest_first",
                             max_length=max_length, **kwargs)
        finally:
            tokenizer.truncation_side = side


class SequenceClassifierScorer(Scorer):
    """A fine-tuned ``AutoModelForSequenceClassification`` reading the Eq. 9/10 text."""

    backend = FINETUNED

    def __init__(self, task: str, model, tokenizer, max_length: int = 512, max_turns: int | None = 12, **extra):
        self.task, self.model, self.tokenizer = task, model.eval(), tokenizer
        self.max_length, self.max_turns = max_length, max_turns
        self.extra = extra
        id2label = model.config.id2label
        self._labels = tuple(id2label[i] for i in range(len(id2label)))

    @property
    def labels(self) -> tuple[str, ...]:
        return self._labels

    def text(self, task_input) -> str | tuple[str, str]:
        """Role: the Eq. 9 text. Strategy: the pair (Eq. 9 background, ``[Cont]`` context) — a pair so that
        truncation can cut the oldest context turns and keep the latest ones (see :func:`tokenize_inputs`)."""
        return task_input if self.task == ROLE_TASK else strategy_pair(*task_input, self.max_turns)

    def proba(self, task_inputs, progress: bool = False) -> np.ndarray:
        import torch

        texts = [self.text(x) for x in task_inputs]
        out = []
        device = next(self.model.parameters()).device
        for i in range(0, len(texts), 32):
            batch = tokenize_inputs(self.tokenizer, texts[i:i + 32], self.max_length, padding=True,
                                    return_tensors="pt").to(device)
            with torch.inference_mode():
                out.append(torch.softmax(self.model(**batch).logits.float(), -1).cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, len(self.labels)), np.float32)

    def save(self, folder: Path, stem: str) -> dict:
        self.model.save_pretrained(folder / stem, safe_serialization=True)
        self.tokenizer.save_pretrained(folder / stem)
        return {"backend": FINETUNED, "model": stem, "labels": list(self.labels), "max_length": self.max_length,
                "max_turns": self.max_turns, **self.extra}

    @classmethod
    def from_config(cls, task: str, folder: Path, cfg: dict) -> "SequenceClassifierScorer":
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        from ..hub import auto_device

        path = folder / cfg["model"]
        if not path.is_dir():
            raise DataFileError(f"{folder / CONFIG_NAME}: model folder {path} not found")
        device, _ = auto_device()
        model = AutoModelForSequenceClassification.from_pretrained(path, use_safetensors=True, trust_remote_code=False).to(device)
        tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=False)
        extra = cls._extra(cfg, ("backend", "model", "labels", "max_length", "max_turns"))
        return cls(task, model, tokenizer, cfg.get("max_length", 512), cfg.get("max_turns", 12), **extra)


class SimilarityScorer(Scorer):
    """No trained head: every role is scored by similarity to its topic description (role matching only).
    Used where no training data in the language exists (the shipped Chinese role matcher)."""

    backend = SIMILARITY
    labels: tuple[str, ...] = ()

    def __init__(self, task: str, encoder: str, **extra):
        if task != ROLE_TASK:
            raise DataFileError(f"the {SIMILARITY!r} backend only serves role matching, not {task!r}")
        self.task, self.encoder_name, self.extra = task, encoder, extra

    def role_features(self, texts: Sequence[str]) -> np.ndarray:
        return self.encoder.encode(texts)

    def proba(self, task_inputs, progress: bool = False) -> np.ndarray:
        return np.zeros((len(task_inputs), 0), np.float32)  # no classes: every role is scored by similarity

    def role_scores(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        return self.proba(texts), self.role_features(texts)

    def save(self, folder: Path, stem: str) -> dict:
        return {"backend": SIMILARITY, "encoder": self.encoder_name, **self.extra}

    @classmethod
    def from_config(cls, task: str, folder: Path, cfg: dict) -> "SimilarityScorer":
        return cls(task, cfg["encoder"], **{k: v for k, v in cfg.items() if k not in ("backend", "encoder")})


BACKENDS: dict[str, type[Scorer]] = {FROZEN: FrozenEncoderScorer, FINETUNED: SequenceClassifierScorer, SIMILARITY: SimilarityScorer}
