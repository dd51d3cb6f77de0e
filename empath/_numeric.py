"""numpy versions of the two activations the shipped heads were trained with in torch."""

from __future__ import annotations

import math

import numpy as np

_GELU_C = math.sqrt(2.0 / math.pi)


def softmax(z: np.ndarray) -> np.ndarray:
    """Softmax over the last axis (shifted by the row maximum, so large logits do not overflow)."""
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def gelu_tanh(h: np.ndarray) -> np.ndarray:
    """torch's ``GELU(approximate="tanh")``."""
    return 0.5 * h * (1.0 + np.tanh(_GELU_C * (h + 0.044715 * h**3)))
