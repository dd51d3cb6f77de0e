"""One memoised sentence encoder per name, shared by every stage that reads that encoder's space (the safety
model, both classifiers, experience retrieval, the emotion scorer): a message is embedded once per encoder per turn."""

from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Sequence

import numpy as np


class CachedEncoder:
    """A sentence encoder with a text -> vector memo, so a dialogue's background and earlier turns are
    encoded once. ``max_items=None`` keeps everything (training); ``path`` persists it (an ``.npz``).
    Thread-safe: encoding happens outside the lock, only the memo is guarded."""

    def __init__(self, encoder, max_items: int | None = 4096, path: str | os.PathLike | None = None):
        self.encoder = encoder
        self.name, self.dim = encoder.name, encoder.dim
        self.max_items = max_items
        self.path = Path(path) if path else None
        self._memo: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._dirty = False
        if self.path is not None and self.path.exists():
            data = np.load(self.path, allow_pickle=False)
            texts = json.loads(data["texts_json"].tobytes().decode("utf-8"))
            self._memo.update(zip(texts, data["vectors"]))

    def encode(self, texts: Sequence[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        texts = [t.strip() for t in texts]
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t and t not in self._memo))
        if missing:
            chunks = range(0, len(missing), 512)
            if progress:
                from tqdm.auto import tqdm

                chunks = tqdm(chunks, desc=f"encoding with {self.name}", unit="x512")
            vectors = np.concatenate([self.encoder.encode(missing[i:i + 512], batch_size=batch_size) for i in chunks])
            with self._lock:
                self._memo.update(zip(missing, vectors))
                self._dirty = True
        out = np.zeros((len(texts), self.dim), np.float32)
        with self._lock:
            for i, t in enumerate(texts):
                if t:
                    out[i] = self._memo[t]
                    self._memo.move_to_end(t)
            while self.max_items is not None and len(self._memo) > self.max_items:
                self._memo.popitem(last=False)
        return out

    def save(self) -> None:
        if self.path is None or not self._dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            texts = list(self._memo)
            vectors = np.stack(list(self._memo.values())) if texts else np.zeros((0, self.dim), np.float32)
        tmp = self.path.with_name(self.path.stem + ".tmp.npz")
        texts_json = np.frombuffer(json.dumps(texts, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)
        np.savez(tmp, texts_json=texts_json, vectors=vectors)
        os.replace(tmp, self.path)
        self._dirty = False


_encoders: dict[str, CachedEncoder] = {}
_encoders_lock = threading.Lock()


def register_encoder(encoder, name: str | None = None) -> CachedEncoder:
    """Make ``encoder`` (anything with ``name``, ``dim`` and ``encode(texts)``) the one used under ``name``
    by saved heads; e.g. an in-house encoder, or a tiny stand-in in tests."""
    with _encoders_lock:
        _encoders[name or encoder.name] = encoder if isinstance(encoder, CachedEncoder) else CachedEncoder(encoder)
        return _encoders[name or encoder.name]


def cached_encoder(name: str) -> CachedEncoder:
    """One shared memoised encoder per name (loaded on first use)."""
    with _encoders_lock:
        if name not in _encoders:
            from .encoders import get_encoder

            _encoders[name] = CachedEncoder(get_encoder(name))
        return _encoders[name]
