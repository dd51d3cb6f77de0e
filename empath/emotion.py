"""Emotion scoring: text -> 8-dimensional Plutchik vector (float32, scale 1-10) for experience retrieval.

Dimension order is fixed (:data:`EMOTION_DIMS`): joy, acceptance, fear, surprise, sadness, disgust,
anger, anticipation. Two families of scorers share the :class:`EmotionScorer` interface:

* :class:`EncoderEmotionScorer` - a sentence encoder plus a linear softmax head over the 8 dimensions.
  ``"default"`` is the multilingual USE encoder (pure numpy, CPU, offline, English and Chinese) with a
  head trained on ESConv *train* seeker situations (which only observe fear / sadness / anger /
  disgust), the project's anchor sentences for all eight dimensions
  (``empath/data/emotion/anchors.yaml``) and the authored vectors of ``experiences/`` as soft targets
  (long narrative texts). ``"prototype"`` is the zero-shot variant: cosine similarity
  to the mean anchor embedding of each dimension. Both ship in
  ``empath/data/emotion/use-multilingual.safetensors``; rebuild with
  ``python -m training.evaluate_emotion --train-head``.
* :class:`LLMEmotionScorer` - the paper's Figure 9 prompt (``empath/data/prompts/emotion_scoring.yaml``)
  on any chat model: a local transformers model (:func:`transformers_chat`) or an OpenAI-compatible
  endpoint (:func:`openai_chat`, configured by ``EMPATH_LLM_BASE_URL`` / ``EMPATH_LLM_API_KEY`` /
  ``EMPATH_LLM_MODEL``). Replies are parsed leniently (:func:`parse_emotion_reply`), unusable replies are
  retried with a correction message, and a final failure raises :class:`EmotionScoringError`. It lives in
  :mod:`empath.emotion_llm` and is importable from here.

Probabilities become scores as ``1 + 9 * p / max(p)``: the strongest dimension gets 10 and the others
keep their ratio to it, the shape the Figure 9 prompt asks an LLM for (one or two high, the rest low).
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np

from ._data import PACKAGE_DATA, DataFileError, load_yaml
from ._numeric import softmax

EMOTION_DIMS: tuple[str, ...] = ("joy", "acceptance", "fear", "surprise", "sadness", "disgust", "anger",
                                 "anticipation")
EMOTION_NAMES_ZH = {"joy": "喜悦", "acceptance": "接纳", "fear": "恐惧", "surprise": "惊讶", "sadness": "悲伤",
                    "disgust": "厌恶", "anger": "愤怒", "anticipation": "期待"}
MIN_SCORE, MAX_SCORE = 1.0, 10.0

#: ESConv ``emotion_type`` -> Plutchik dimension (the mapping used to evaluate scorers).
ESCONV_TO_PLUTCHIK = {
    "anxiety": "fear", "fear": "fear", "nervousness": "fear",
    "depression": "sadness", "sadness": "sadness", "pain": "sadness", "guilt": "sadness",
    "anger": "anger", "jealousy": "anger",
    "disgust": "disgust", "shame": "disgust",
}

EMOTION_DATA = PACKAGE_DATA / "emotion"
DEFAULT_HEAD_FILE = EMOTION_DATA / "use-multilingual.safetensors"
ANCHORS_FILE = EMOTION_DATA / "anchors.yaml"
PROMPT_FILE = PACKAGE_DATA / "prompts" / "emotion_scoring.yaml"
SCORER_NAMES = ("default", "prototype", "llm", "local-llm")

ChatFn = Callable[[list[dict]], str]


class EmotionScoringError(RuntimeError):
    """A scorer could not produce a vector (e.g. the LLM never gave parseable scores); says why."""


class EmotionParseError(ValueError):
    """An LLM reply held no complete set of scores. ``found`` keeps the dimensions that were parsed."""

    def __init__(self, message: str, found: Mapping[str, float] | None = None):
        super().__init__(message)
        self.found = dict(found or {})


# ---------------------------------------------------------------------------------------------
# Vectors
# ---------------------------------------------------------------------------------------------
def emotion_vector(scores: Mapping[str, float]) -> np.ndarray:
    """``{"joy": 2, ...}`` (all eight keys) -> float32 vector in :data:`EMOTION_DIMS` order."""
    missing = [d for d in EMOTION_DIMS if d not in scores]
    if missing:
        raise KeyError(f"missing emotion dimensions: {', '.join(missing)}")
    return np.array([float(scores[d]) for d in EMOTION_DIMS], dtype=np.float32)


def emotion_dict(vector: Sequence[float], decimals: int | None = None) -> dict[str, float]:
    """Vector -> ``{dim: score}``; ``decimals=0`` gives the integers the experience files store."""
    values = np.asarray(vector, dtype=np.float64).reshape(-1)
    if values.shape != (len(EMOTION_DIMS),):
        raise ValueError(f"expected {len(EMOTION_DIMS)} scores, got shape {values.shape}")
    if decimals is None:
        return {d: float(v) for d, v in zip(EMOTION_DIMS, values)}
    if decimals == 0:
        return {d: int(round(v)) for d, v in zip(EMOTION_DIMS, values)}
    return {d: round(float(v), decimals) for d, v in zip(EMOTION_DIMS, values)}


def probabilities_to_scores(probs: np.ndarray) -> np.ndarray:
    """Rows of probabilities over the 8 dims -> scores ``1 + 9 * p / max(p)`` (float32)."""
    probs = np.asarray(probs, dtype=np.float32)
    peak = np.maximum(probs.max(axis=-1, keepdims=True), np.finfo(np.float32).tiny)
    return (MIN_SCORE + (MAX_SCORE - MIN_SCORE) * probs / peak).astype(np.float32)


def strongest_dimension(vector: Sequence[float]) -> str:
    return EMOTION_DIMS[int(np.argmax(np.asarray(vector)))]


# ---------------------------------------------------------------------------------------------
# Interface
# ---------------------------------------------------------------------------------------------
class EmotionScorer:
    """``score(text, lang=None) -> np.ndarray`` of shape (8,), float32, values in [1, 10].

    Empty or whitespace-only text expresses no emotion and scores 1 everywhere.
    """

    name: str = "emotion-scorer"

    def score(self, text: str, lang: str | None = None) -> np.ndarray:
        return self.score_batch([text], lang=lang)[0]

    def score_batch(self, texts: Sequence[str], lang: str | None = None) -> np.ndarray:
        """``[n, 8]`` scores; subclasses batch where they can."""
        texts = _check_texts(texts)
        out = np.full((len(texts), len(EMOTION_DIMS)), MIN_SCORE, dtype=np.float32)
        for i, text in enumerate(texts):
            if text.strip():
                out[i] = self._score_one(text, lang)
        return out

    def _score_one(self, text: str, lang: str | None) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def __call__(self, text: str, lang: str | None = None) -> np.ndarray:
        return self.score(text, lang)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def _check_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("score_batch expects a list of strings, not one string (use score())")
    texts = list(texts)
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TypeError(f"text {i} is {type(t).__name__}, expected str")
    return texts


class EncoderEmotionScorer(EmotionScorer):
    """Sentence encoder + linear softmax head: ``scores = 1 + 9 p / max p``, ``p = softmax(W x + b)``.

    A prototype scorer is the same computation with ``W = prototypes / temperature`` and ``b = 0``.
    The encoder is only loaded on first use, so building a scorer is cheap.
    """

    def __init__(self, encoder: str | object, weight: np.ndarray, bias: np.ndarray | None = None,
                 name: str = "encoder-head"):
        weight = np.asarray(weight, dtype=np.float32)
        if weight.ndim != 2 or weight.shape[0] != len(EMOTION_DIMS):
            raise ValueError(f"head weight must have shape [{len(EMOTION_DIMS)}, dim], got {weight.shape}")
        bias = np.zeros(len(EMOTION_DIMS), np.float32) if bias is None else np.asarray(bias, np.float32)
        if bias.shape != (len(EMOTION_DIMS),):
            raise ValueError(f"head bias must have shape [{len(EMOTION_DIMS)}], got {bias.shape}")
        self.weight_t = np.ascontiguousarray(weight.T)  # [dim, 8]: one small matmul per batch
        self.bias = bias
        self.name = name
        self._encoder = encoder if not isinstance(encoder, str) else None
        self.encoder_name = encoder if isinstance(encoder, str) else getattr(encoder, "name", "custom")
        self._lock = threading.Lock()

    @property
    def encoder(self):
        if self._encoder is None:
            with self._lock:
                if self._encoder is None:
                    from .encoder_cache import cached_encoder

                    self._encoder = cached_encoder(self.encoder_name)
        return self._encoder

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        x = self.encoder.encode(list(texts))
        if x.shape[1] != self.weight_t.shape[0]:
            raise EmotionScoringError(f"{self.name}: encoder {self.encoder_name!r} gives {x.shape[1]}-d vectors "
                                      f"but the head expects {self.weight_t.shape[0]}")
        return softmax(x @ self.weight_t + self.bias)

    def score_batch(self, texts: Sequence[str], lang: str | None = None) -> np.ndarray:
        texts = _check_texts(texts)
        out = np.full((len(texts), len(EMOTION_DIMS)), MIN_SCORE, dtype=np.float32)
        keep = [i for i, t in enumerate(texts) if t.strip()]
        if keep:
            out[keep] = probabilities_to_scores(self.probabilities([texts[i] for i in keep]))
        return out

    @classmethod
    def from_file(cls, path: str | os.PathLike = DEFAULT_HEAD_FILE, kind: str = "head",
                  name: str | None = None) -> "EncoderEmotionScorer":
        """Load a head written by :func:`save_head`; ``kind`` is ``"head"`` or ``"prototype"``."""
        tensors, meta = load_head(path)
        if kind == "head":
            weight, bias = tensors["head.weight"], tensors["head.bias"]
        elif kind == "prototype":
            weight, bias = tensors["prototypes"] / float(meta.get("prototype_temperature", 0.05)), None
        else:
            raise ValueError(f"kind must be 'head' or 'prototype', got {kind!r}")
        return cls(meta["encoder"], weight, bias, name=name or f"{kind}:{Path(path).name}")


def save_head(path: str | os.PathLike, weight: np.ndarray, bias: np.ndarray, prototypes: np.ndarray,
              metadata: Mapping[str, str]) -> Path:
    """Write head + prototypes as safetensors; ``metadata`` must name the ``encoder``."""
    from safetensors.numpy import save_file

    if "encoder" not in metadata:
        raise ValueError("metadata must name the encoder the head was trained on")
    meta = {"dims": ",".join(EMOTION_DIMS), **{k: str(v) for k, v in metadata.items()}}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({"head.weight": np.ascontiguousarray(weight, np.float32),
               "head.bias": np.ascontiguousarray(bias, np.float32),
               "prototypes": np.ascontiguousarray(prototypes, np.float32)}, str(path), metadata=meta)
    return path


def load_head(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"{path}: emotion head not found (python -m training.evaluate_emotion --train-head)")
    with safe_open(str(path), framework="numpy") as fh:
        meta = dict(fh.metadata() or {})
        tensors = {k: fh.get_tensor(k) for k in fh.keys()}
    if meta.get("dims") != ",".join(EMOTION_DIMS):
        raise DataFileError(f"{path}: dimension order {meta.get('dims')!r} differs from {','.join(EMOTION_DIMS)}")
    if "encoder" not in meta or {"head.weight", "head.bias", "prototypes"} - tensors.keys():
        raise DataFileError(f"{path}: needs metadata 'encoder' and tensors head.weight, head.bias, prototypes")
    return tensors, meta


def load_anchors(path: str | os.PathLike = ANCHORS_FILE) -> dict[str, dict[str, list[str]]]:
    """``{dim: {lang: [sentence, ...]}}`` for all eight dimensions (validated)."""
    data = load_yaml(path)
    if not isinstance(data, dict):
        raise DataFileError(f"{path}: expected a mapping of emotion dimension -> {{en: [...], zh: [...]}}")
    unknown = sorted(set(data) - set(EMOTION_DIMS))
    missing = [d for d in EMOTION_DIMS if d not in data]
    if unknown or missing:
        raise DataFileError(f"{path}: unknown dimensions {unknown}, missing {missing}")
    out = {}
    for dim in EMOTION_DIMS:
        langs = data[dim]
        if not isinstance(langs, dict) or not langs:
            raise DataFileError(f"{path}: {dim}: expected {{en: [...], zh: [...]}}")
        for lang, sentences in langs.items():
            if not isinstance(sentences, list) or not all(isinstance(s, str) and s.strip() for s in sentences):
                raise DataFileError(f"{path}: {dim}.{lang}: expected a list of non-empty sentences")
        out[dim] = {lang: list(s) for lang, s in langs.items()}
    return out


# ---------------------------------------------------------------------------------------------
# Factory
# ---------------------------------------------------------------------------------------------
@lru_cache(maxsize=4)
def _packaged_scorer(kind: str) -> EncoderEmotionScorer:
    return EncoderEmotionScorer.from_file(DEFAULT_HEAD_FILE, kind=kind, name="default" if kind == "head" else kind)


def get_emotion_scorer(name: str | None = "default", **kwargs) -> EmotionScorer:
    """``default`` (USE + trained head), ``prototype`` (zero-shot), ``llm`` (OpenAI-compatible endpoint;
    kwargs go to :func:`openai_chat`), ``local-llm`` or ``local-llm:<model ref>`` (a transformers model via
    ``empath.hub.load_causal_lm``), or a path to a head ``.safetensors`` file. ``None`` reads
    ``EMPATH_EMOTION_SCORER`` (falling back to ``default``). Packaged scorers are shared instances."""
    name = name or os.environ.get("EMPATH_EMOTION_SCORER") or "default"
    retries = kwargs.pop("retries", 2)
    if name == "default":
        return _packaged_scorer("head")
    if name == "prototype":
        return _packaged_scorer("prototype")
    if name in ("llm", "openai") or name == "local-llm" or name.startswith("local-llm:"):
        from .emotion_llm import LLMEmotionScorer, openai_chat, transformers_chat
    if name in ("llm", "openai"):
        return LLMEmotionScorer(openai_chat(**kwargs), retries=retries, name="llm")
    if name == "local-llm" or name.startswith("local-llm:"):
        from .hub import load_causal_lm

        ref = name.partition(":")[2] or None
        model, tokenizer = load_causal_lm(ref)
        return LLMEmotionScorer(transformers_chat(model, tokenizer, **kwargs), retries=retries, name=name)
    if name.endswith(".safetensors") and Path(name).is_file():
        return EncoderEmotionScorer.from_file(name)
    raise ValueError(f"unknown emotion scorer {name!r}; use one of {', '.join(SCORER_NAMES)}, "
                     "'local-llm:<model ref>' or a head .safetensors file")


_LLM_NAMES = ("parse_emotion_reply", "load_scoring_prompts", "LLMEmotionScorer", "transformers_chat", "openai_chat")  # defined in empath.emotion_llm; re-exported here on first access


def __getattr__(name: str):
    if name in _LLM_NAMES:
        from . import emotion_llm

        return getattr(emotion_llm, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
