"""Strategy features for the frozen-encoder backend: embedded turn texts plus the dialogue state."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from ..dialogue import SEEKER, SUPPORTER, Background, Turn
from ..strategies import STRATEGY_NAMES
from ..encoder_cache import CachedEncoder
from .inputs import role_text

_POSITION_BUCKETS = (0, 1, 2, 3, 4, 6, 8, 11, 15, 20)  # supporter turns so far (lower bounds)
N_STRATEGIES = len(STRATEGY_NAMES)


def strategy_texts(background: Background, turns: Sequence[Turn]) -> tuple[str, str, str, str]:
    """(background, last seeker turn, the seeker turn before it, last supporter turn) texts; '' when absent."""
    seeker = [t.text for t in turns if t.speaker == SEEKER]
    supporter = [t.text for t in turns if t.speaker == SUPPORTER]
    return (role_text(background), seeker[-1] if seeker else "", seeker[-2] if len(seeker) > 1 else "",
            supporter[-1] if supporter else "")


def strategy_structure(turns: Sequence[Turn]) -> np.ndarray:
    """Dialogue-state features: the last two strategies, the strategy history, the stage and turn shape."""
    supporter = [t for t in turns if t.speaker == SUPPORTER]
    one_hot = np.zeros(2 * (N_STRATEGIES + 1), np.float32)
    for k, slot in ((1, 0), (2, N_STRATEGIES + 1)):
        s = supporter[-k].strategy if len(supporter) >= k else None
        one_hot[slot + (STRATEGY_NAMES.index(s) if s else N_STRATEGIES)] = 1.0
    counts = np.zeros(N_STRATEGIES, np.float32)
    for t in supporter:
        if t.strategy:
            counts[STRATEGY_NAMES.index(t.strategy)] += 1
    share = counts / max(1.0, counts.sum())
    position = np.zeros(len(_POSITION_BUCKETS), np.float32)
    position[max(i for i, b in enumerate(_POSITION_BUCKETS) if len(supporter) >= b)] = 1.0
    last = turns[-1] if turns else None
    n_seeker = sum(t.speaker == SEEKER for t in turns)
    shape = np.array([
        float(last is not None and last.speaker == SUPPORTER),  # the supporter goes on talking
        float(last is not None and last.speaker == SEEKER and ("?" in last.text or "？" in last.text)),
        math.log1p(len(last.text)) / 6.0 if last is not None else 0.0,
        math.log1p(n_seeker) / 3.0,
    ], np.float32)
    return np.concatenate([one_hot, share, np.log1p(counts), position, shape])


STRUCTURE_DIM = len(strategy_structure([]))


def strategy_features(items: Sequence[tuple[Background, list[Turn]]], encoder, progress: bool = False) -> np.ndarray:
    """[n, 4 * encoder.dim + STRUCTURE_DIM]: the embedded :func:`strategy_texts` + :func:`strategy_structure`."""
    if not isinstance(encoder, CachedEncoder):  # a bare encoder: empty texts must become zero vectors
        encoder = CachedEncoder(encoder, max_items=None)
    texts = [strategy_texts(bg, turns) for bg, turns in items]
    emb = encoder.encode([t for row in texts for t in row], progress=progress).reshape(len(items), -1)
    structure = np.stack([strategy_structure(turns) for _, turns in items]) if items else np.zeros((0, STRUCTURE_DIM), np.float32)
    return np.concatenate([emb, structure], axis=1)
