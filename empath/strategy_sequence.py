"""Strategy prediction over the whole dialogue so far: a small GRU across per-turn embeddings.

The ``frozen-encoder`` strategy head sees the last two strategies, the strategy history and the latest
turns' embeddings. This backend (``sequence-gru``) also reads every earlier turn in order: each turn is one
step of a GRU whose input is the turn's sentence embedding (the same frozen encoder), the speaker, the
strategy the supporter used there (known history) and the turn's length; the state starts from the
background's embedding. The state before the next supporter turn, concatenated with the
``frozen-encoder`` features (:func:`empath.classifiers.strategy_features`), goes through a linear layer to
the 8 strategies. Several members (one per cross-validation fold of the training dialogues) are averaged,
and a per-class logit bias (``-tau * log prior``, tau chosen on out-of-fold predictions) lifts the rare
strategies for macro-F1.

Inference is numpy. One embedding per turn, memoised by the shared :class:`~empath.classifiers.CachedEncoder`,
and GRU states are memoised per dialogue prefix, so a new message costs one encoder pass for each new turn and
one GRU step per member for it.

Trained by ``training/train_strategy_sequence.py``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Sequence

import numpy as np

from ._data import DataFileError
from ._numeric import gelu_tanh, softmax
from .classifiers import (STRATEGY_TASK, CachedEncoder, ClassifierInputError, Scorer, load_labelled_weights,
                          role_text, strategy_features)
from .dialogue import SEEKER, SUPPORTER, Background, Turn
from .strategies import STRATEGY_NAMES

SEQUENCE = "sequence-gru"
SEQUENCE_FEATURES = "strategy-sequence/1"  # bump when turn_inputs() or the flat features change
N_STRATEGIES = len(STRATEGY_NAMES)
TURN_EXTRA = 2 + (N_STRATEGIES + 1) + 1  # speaker one-hot, strategy one-hot (+ none), log length


def turn_extras(turns: Sequence[Turn]) -> np.ndarray:
    """[T, TURN_EXTRA]: (is seeker, is supporter, strategy one-hot with a 'none' slot, log1p(chars) / 6)."""
    out = np.zeros((len(turns), TURN_EXTRA), np.float32)
    for i, t in enumerate(turns):
        out[i, 0 if t.speaker == SEEKER else 1] = 1.0
        s = t.strategy if t.speaker == SUPPORTER and t.strategy in STRATEGY_NAMES else None
        out[i, 2 + (STRATEGY_NAMES.index(s) if s else N_STRATEGIES)] = 1.0
        out[i, -1] = math.log1p(len(t.text)) / 6.0
    return out


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


class SequenceEnsemble:
    """K GRU members stacked: ``inp_w [K,H,D]``, ``inp_b [K,H]``, ``bg_w [K,H,E]``, ``bg_b``, ``w_ih [K,3H,H]``,
    ``w_hh``, ``b_ih``, ``b_hh`` (torch GRU layout, gates r|z|n), ``out_w [K,C,H+F]``, ``out_b``; ``logit_bias [C]``."""

    KEYS = ("inp_w", "inp_b", "bg_w", "bg_b", "w_ih", "w_hh", "b_ih", "b_hh", "out_w", "out_b")

    def __init__(self, labels: Sequence[str], params: dict[str, np.ndarray]):
        missing = [k for k in (*self.KEYS, "logit_bias") if k not in params]
        if missing:
            raise DataFileError(f"sequence strategy head lacks {', '.join(missing)}")
        self.labels = tuple(labels)
        self.params = {k: np.asarray(v, np.float32) for k, v in params.items()}
        if self.params["out_w"].shape[1] != len(self.labels):
            raise DataFileError(f"sequence head has {self.params['out_w'].shape[1]} outputs but {len(self.labels)} labels")

    @property
    def members(self) -> int:
        return int(self.params["inp_w"].shape[0])

    @property
    def hidden(self) -> int:
        return int(self.params["inp_b"].shape[1])

    @property
    def flat_dim(self) -> int:
        return int(self.params["out_w"].shape[2] - self.hidden)

    def initial(self, background: np.ndarray) -> np.ndarray:
        """[K, H] state from the background embedding [E]."""
        p = self.params
        return np.tanh(np.einsum("khe,e->kh", p["bg_w"], background) + p["bg_b"])

    def step(self, h: np.ndarray, turn: np.ndarray) -> np.ndarray:
        """One GRU step for all members: h [K, H], turn input [D] -> [K, H]."""
        p, H = self.params, self.hidden
        x = gelu_tanh(np.einsum("khd,d->kh", p["inp_w"], turn) + p["inp_b"])
        gi = np.einsum("kgh,kh->kg", p["w_ih"], x) + p["b_ih"]
        gh = np.einsum("kgh,kh->kg", p["w_hh"], h) + p["b_hh"]
        r = _sigmoid(gi[:, :H] + gh[:, :H])
        z = _sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
        n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
        return (1.0 - z) * n + z * h

    def proba(self, states: np.ndarray, flat: np.ndarray) -> np.ndarray:
        """states [N, K, H], flat [N, F] -> [N, C]: mean of the members' softmax, then the logit bias."""
        p = self.params
        z = np.concatenate([states, np.broadcast_to(flat[:, None, :], (len(flat), self.members, flat.shape[1]))], -1)
        logits = np.einsum("nkf,kcf->nkc", z, p["out_w"]) + p["out_b"]
        mean = softmax(logits).mean(1)
        return softmax(np.log(np.maximum(mean, 1e-12)) + p["logit_bias"])

    def save(self, path: str | os.PathLike, metadata: dict | None = None) -> None:
        from safetensors.numpy import save_file

        meta = {"labels": json.dumps(list(self.labels)), **{k: json.dumps(v) for k, v in (metadata or {}).items()}}
        save_file({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in self.params.items()}, str(path), metadata=meta)

    @classmethod
    def load(cls, path: str | os.PathLike, labels: Sequence[str] | None = None) -> "SequenceEnsemble":
        params, labels = load_labelled_weights(path, labels)
        return cls(labels, params)


class SequenceScorer(Scorer):
    """Strategy backend ``sequence-gru``: frozen encoder + :class:`SequenceEnsemble` (one embedding per turn)."""

    backend = SEQUENCE
    task = STRATEGY_TASK

    def __init__(self, encoder: str, model: SequenceEnsemble, features: str | None = None,
                 max_states: int = 4096, **extra):
        self.encoder_name, self.model = encoder, model
        self.features = features or SEQUENCE_FEATURES
        if self.features != SEQUENCE_FEATURES:
            raise DataFileError(f"sequence strategy head uses features {self.features!r}; this Empath computes "
                                f"{SEQUENCE_FEATURES!r}")
        self.extra = extra
        self._states: OrderedDict[bytes, np.ndarray] = OrderedDict()  # dialogue prefix -> [K, H]
        self._max_states = max_states
        self._lock = threading.Lock()

    @property
    def labels(self) -> tuple[str, ...]:
        return self.model.labels

    def clear_memo(self) -> None:
        """Forget the memoised GRU states (benchmarks' cold runs)."""
        with self._lock:
            self._states.clear()

    def _state(self, encoder: CachedEncoder, background: Background, turns: Sequence[Turn]) -> np.ndarray:
        """The members' GRU states after ``turns``; the longest memoised prefix is reused."""
        keys, digest = [], hashlib.blake2b(role_text(background).encode("utf-8"), digest_size=16)
        keys.append(digest.digest())
        for t in turns:
            digest.update(json.dumps([t.speaker, t.strategy, t.text], ensure_ascii=False).encode("utf-8"))
            keys.append(digest.digest())
        with self._lock:
            start = next((j for j in range(len(keys) - 1, -1, -1) if keys[j] in self._states), None)
            h = self._states[keys[start]] if start is not None else None
        if h is None:
            bg_text = role_text(background)
            bg = encoder.encode([bg_text])[0] if bg_text else np.zeros(encoder.dim, np.float32)
            h, start = self.model.initial(bg), 0
        new = list(turns[start:])
        if new:
            emb = encoder.encode([t.text for t in new])
            x = np.concatenate([emb, turn_extras(new)], 1)
            fresh = []
            for j, row in enumerate(x):
                h = self.model.step(h, row)
                fresh.append((keys[start + j + 1], h))
        else:
            fresh = [(keys[start], h)]
        with self._lock:
            for key, state in fresh:
                self._states[key] = state
                self._states.move_to_end(key)
            while len(self._states) > self._max_states:
                self._states.popitem(last=False)
        return h

    def proba(self, items: Sequence[tuple[Background, list[Turn]]], progress: bool = False) -> np.ndarray:
        if not items:
            return np.zeros((0, len(self.labels)), np.float32)
        encoder = self.encoder
        flat = strategy_features(items, encoder, progress)
        if flat.shape[1] != self.model.flat_dim:
            raise ClassifierInputError(f"sequence head expects {self.model.flat_dim} flat features, got {flat.shape[1]}")
        # a dialogue's prefixes in order, so each GRU step is computed once
        order = sorted(range(len(items)), key=lambda i: len(items[i][1]))
        states = np.zeros((len(items), self.model.members, self.model.hidden), np.float32)
        for i in order:
            states[i] = self._state(encoder, *items[i])
        return self.model.proba(states, flat)

    def save(self, folder: Path, stem: str) -> dict:
        return self._save_weights(self.model, folder, stem)

    @classmethod
    def from_config(cls, task: str, folder: Path, cfg: dict) -> "SequenceScorer":
        if task != STRATEGY_TASK:
            raise DataFileError(f"the {SEQUENCE!r} backend only serves strategy prediction, not {task!r}")
        extra = cls._extra(cfg)
        return cls(cfg["encoder"], SequenceEnsemble.load(folder / cfg["weights"], cfg.get("labels")),
                   cfg.get("features"), **extra)
