"""What every classifier module shares: the folder format's names, the errors, and the backend interface."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from .._data import PACKAGE_DATA
from ..encoder_cache import CachedEncoder, cached_encoder

DEFAULT_CLASSIFIERS = PACKAGE_DATA / "classifiers"
CONFIG_NAME = "config.json"
FORMAT_VERSION = "empath-classifiers/1"
FROZEN, FINETUNED, SIMILARITY = "frozen-encoder", "sequence-classification", "similarity"
ROLE_TASK, STRATEGY_TASK = "role", "strategy"
STRATEGY_FEATURES = "strategy-features/1"  # bump when strategy_structure() changes


class ClassifierInputError(ValueError):
    """The input cannot be classified (e.g. everything empty); the message says what is missing."""


class UnknownLabelError(KeyError):
    """A training or gold label outside the label set; the message lists the valid labels."""

    def __str__(self) -> str:
        return str(self.args[0])


class Scorer:
    """The interface of a backend: one trained (or untrained) scorer for one task in one language.

    ``labels`` are the classes ``proba`` scores; ``extra`` keeps the config keys the backend does not read
    (``temperature``...); ``encoder_name`` names the sentence encoder whose space the backend reads (None: it
    reads text, not embeddings), so role matching can score roles the backend lacks by similarity there.
    """

    backend: str = ""
    task: str = ""
    labels: tuple[str, ...] = ()
    extra: dict
    encoder_name: str | None = None
    features: str | None = None  # the input features a weights head was trained on (one-file heads)

    @property
    def encoder(self) -> CachedEncoder | None:
        """The shared memoised encoder named ``encoder_name`` (loaded on first use)."""
        return cached_encoder(self.encoder_name) if self.encoder_name else None

    def proba(self, task_inputs: Sequence, progress: bool = False) -> np.ndarray:
        """[n, len(labels)] probabilities; role inputs are Eq. 9 texts, strategy inputs (background, turns)."""
        raise NotImplementedError

    def role_scores(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray | None]:
        """(probabilities over ``labels``, the embeddings of ``texts`` it read, or None when it read none)."""
        return self.proba(texts), None

    def save(self, folder: Path, stem: str) -> dict:
        """Write the weights under ``folder`` and return this head's ``config.json`` entry."""
        raise NotImplementedError

    # the config keys a one-file head (frozen encoder + weights) writes; the rest of an entry is ``extra``
    WEIGHTS_KEYS = ("backend", "encoder", "weights", "labels", "features")

    def _save_weights(self, weights, folder: Path, stem: str) -> dict:
        """Save ``weights`` (anything with ``save(path)``) as ``<stem>.safetensors``; its ``config.json`` entry."""
        weights.save(folder / f"{stem}.safetensors")
        return {"backend": self.backend, "encoder": self.encoder_name, "weights": f"{stem}.safetensors",
                "labels": list(self.labels), "features": self.features, **self.extra}

    @classmethod
    def _extra(cls, cfg: dict, known: Sequence[str] = WEIGHTS_KEYS) -> dict:
        """The entry's keys this backend does not read itself (kept and written back on save)."""
        return {k: v for k, v in cfg.items() if k not in known}

    @classmethod
    def from_config(cls, task: str, folder: Path, cfg: dict) -> "Scorer":
        """The scorer a ``config.json`` head entry describes."""
        raise NotImplementedError


def pick_scorer(scorers: dict[str, Scorer], default_lang: str, lang: str) -> Scorer:
    """The scorer for ``lang``, else the default language's."""
    return scorers.get(lang) or scorers[default_lang]
