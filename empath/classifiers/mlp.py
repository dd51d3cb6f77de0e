"""The MLP head: trained in torch (``training/classifier_training.py``), served in numpy."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from .._data import DataFileError
from .._numeric import gelu_tanh, softmax
from .base import ClassifierInputError


@dataclass
class MLPHead:
    """Standardise -> [Linear -> GELU]* -> Linear. ``params``: mean, scale, w0, b0, w1, b1, ..."""

    labels: tuple[str, ...]
    params: dict[str, np.ndarray]

    @property
    def n_layers(self) -> int:
        return sum(1 for k in self.params if k.startswith("w"))

    @property
    def input_dim(self) -> int:
        return int(self.params["mean"].shape[0])

    def logits(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float32)
        if x.ndim != 2 or x.shape[1] != self.input_dim:
            raise ClassifierInputError(f"head expects features of shape [n, {self.input_dim}], got {list(x.shape)}")
        h = (x - self.params["mean"]) / self.params["scale"]
        for i in range(self.n_layers):
            h = h @ self.params[f"w{i}"].T + self.params[f"b{i}"]
            if i < self.n_layers - 1:
                h = gelu_tanh(h)
        return h

    def proba(self, x: np.ndarray) -> np.ndarray:
        return softmax(self.logits(x))

    def save(self, path: str | os.PathLike) -> None:
        from safetensors.numpy import save_file

        save_file({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in self.params.items()}, str(path),
                  metadata={"labels": json.dumps(list(self.labels), ensure_ascii=False)})

    @classmethod
    def load(cls, path: str | os.PathLike, labels: Sequence[str] | None = None) -> "MLPHead":
        params, labels = load_labelled_weights(path, labels)
        n_out = params[f"w{sum(1 for k in params if k.startswith('w')) - 1}"].shape[0]
        if len(labels) != n_out:
            raise DataFileError(f"{path}: head has {n_out} outputs but {len(labels)} labels")
        return cls(labels, params)


def load_labelled_weights(path: str | os.PathLike, labels: Sequence[str] | None = None) -> tuple[dict, tuple]:
    """numpy arrays of a safetensors file and its labels (given ones win over the file's ``labels`` metadata)."""
    from safetensors import safe_open
    from safetensors.numpy import load_file

    path = Path(path)
    if not path.exists():
        raise DataFileError(f"{path}: weights file not found")
    params = load_file(str(path))
    with safe_open(str(path), framework="numpy") as fh:
        stored = json.loads((fh.metadata() or {}).get("labels", "null"))
    return params, tuple(labels or stored or ())
