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
  retried with a correction message, and a final failure raises :class:`EmotionScoringError`.

Probabilities become scores as ``1 + 9 * p / max(p)``: the strongest dimension gets 10 and the others
keep their ratio to it, the shape the Figure 9 prompt asks an LLM for (one or two high, the rest low).
"""

from __future__ import annotations

import ast
import json
import os
import re
import threading
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np

from ._data import PACKAGE_DATA, DataFileError, load_yaml
from ._numeric import softmax
from .lang import resolve_language

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
                    from .encoders import get_encoder

                    self._encoder = get_encoder(self.encoder_name)
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
# LLM-prompted scorer (Figure 9)
# ---------------------------------------------------------------------------------------------
_DIM_ALIASES = {**{d: d for d in EMOTION_DIMS}, **{v: k for k, v in EMOTION_NAMES_ZH.items()},
                "trust": "acceptance", "接受": "acceptance", "信任": "acceptance", "快乐": "joy",
                "高兴": "joy", "害怕": "fear", "伤心": "sadness", "生气": "anger", "期望": "anticipation"}
_NUMBER = r"-?\d+(?:\.\d+)?"
_DIM_WORD = "|".join(sorted(map(re.escape, _DIM_ALIASES), key=len, reverse=True))
# {"dim": "fear", ..., "score": 7} inside one object, either key first
_PAIR_DIM_FIRST = re.compile(r"""["']?(?:dim|dimension|emotion|name)["']?\s*[:：]\s*["']?(%s)["']?[^{}\[\]]*?"""
                             r"""["']?(?:score|value|intensity)["']?\s*[:：]\s*["']?(%s)""" % (_DIM_WORD, _NUMBER),
                             re.IGNORECASE)
_PAIR_SCORE_FIRST = re.compile(r"""["']?(?:score|value|intensity)["']?\s*[:：]\s*["']?(%s)["']?[^{}\[\]]*?"""
                               r"""["']?(?:dim|dimension|emotion|name)["']?\s*[:：]\s*["']?(%s)\b"""
                               % (_NUMBER, _DIM_WORD), re.IGNORECASE)
# joy: 2 / "joy"=2 / 恐惧：7
_KEY_VALUE = re.compile(r"""(?<![A-Za-z])["']?(%s)["']?\s*[:：=]\s*["']?(%s)""" % (_DIM_WORD, _NUMBER),
                        re.IGNORECASE)
_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"```(?:json|python)?", re.IGNORECASE)


def _canonical_dim(name) -> str | None:
    return _DIM_ALIASES.get(str(name).strip().lower()) if isinstance(name, str) else None


def _as_score(value) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str) and re.fullmatch(r"\s*%s\s*" % _NUMBER, value):
        number = float(value)
    else:
        return None
    return float(np.clip(number, MIN_SCORE, MAX_SCORE)) if np.isfinite(number) else None


def _structured_candidates(text: str) -> Iterable[object]:
    """Python objects decoded from the reply: the whole text, else the outermost [...] / {...} span."""
    spans = [text]
    for open_, close in (("[", "]"), ("{", "}")):
        start, end = text.find(open_), text.rfind(close)
        if 0 <= start < end:
            spans.append(text[start:end + 1])
    for span in spans:
        repaired = re.sub(r",\s*([\]}])", r"\1", span.replace("{{", "{").replace("}}", "}"))
        for candidate in dict.fromkeys((span, repaired)):
            for decode in (json.loads, ast.literal_eval):
                try:
                    yield decode(candidate)
                    break
                except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                    continue


def _collect_scores(obj, found: dict[str, float]) -> None:
    """Walk decoded JSON: lists of {dim, score}, {dim: score} maps, wrappers, or 8 bare numbers."""
    if isinstance(obj, dict):
        lowered = {str(k).strip().lower(): v for k, v in obj.items()}
        dim_key = next((k for k in ("dim", "dimension", "emotion", "name") if k in lowered), None)
        score_key = next((k for k in ("score", "value", "intensity") if k in lowered), None)
        if dim_key and score_key and _canonical_dim(lowered[dim_key]):
            score = _as_score(lowered[score_key])
            if score is not None:
                found.setdefault(_canonical_dim(lowered[dim_key]), score)
            return
        for key, value in obj.items():
            dim = _canonical_dim(key)
            if dim is not None:
                score = _as_score(value.get("score") if isinstance(value, dict) else value)
                if score is not None:
                    found.setdefault(dim, score)
            elif isinstance(value, (dict, list)):
                _collect_scores(value, found)
    elif isinstance(obj, list):
        if len(obj) == len(EMOTION_DIMS) and all(_as_score(v) is not None for v in obj):
            for dim, value in zip(EMOTION_DIMS, obj):
                found.setdefault(dim, _as_score(value))
            return
        for item in obj:
            _collect_scores(item, found)


def parse_emotion_reply(reply: str, allow_partial: bool = False) -> np.ndarray:
    """Scores from an LLM reply (JSON, Python literal, or ``dim: score`` text; English or Chinese
    dimension names). Scores are clipped to [1, 10]; a repeated dimension keeps its first score.
    Missing dimensions raise :class:`EmotionParseError` unless ``allow_partial`` (then they score 1).
    """
    if not isinstance(reply, str):
        raise EmotionParseError(f"reply is {type(reply).__name__}, not text")
    text = _FENCE.sub("", _THINK.sub("", reply)).strip()
    found: dict[str, float] = {}
    for obj in _structured_candidates(text):
        _collect_scores(obj, found)
        if len(found) == len(EMOTION_DIMS):
            break
    if len(found) < len(EMOTION_DIMS):  # broken JSON: read pairs straight from the text
        for pattern, dim_group, score_group in ((_PAIR_DIM_FIRST, 1, 2), (_PAIR_SCORE_FIRST, 2, 1),
                                                (_KEY_VALUE, 1, 2)):
            for m in pattern.finditer(text):
                score = _as_score(m.group(score_group))
                if score is not None:
                    found.setdefault(_canonical_dim(m.group(dim_group)), score)
    if not found:
        raise EmotionParseError("no emotion scores found in the reply")
    missing = [d for d in EMOTION_DIMS if d not in found]
    if missing and not allow_partial:
        raise EmotionParseError(f"scores missing for {', '.join(missing)}", found)
    return np.array([found.get(d, MIN_SCORE) for d in EMOTION_DIMS], dtype=np.float32)


@lru_cache(maxsize=4)
def load_scoring_prompts(path: str | os.PathLike = PROMPT_FILE) -> dict[str, dict[str, str]]:
    data = load_yaml(path)
    for lang in ("en", "zh"):
        block = data.get(lang) if isinstance(data, dict) else None
        if not isinstance(block, dict) or any(not isinstance(block.get(k), str) for k in ("system", "user", "retry")):
            raise DataFileError(f"{path}: '{lang}' needs text fields system, user and retry")
        if "{text}" not in block["user"] or "{problem}" not in block["retry"]:
            raise DataFileError(f"{path}: '{lang}.user' needs {{text}} and '{lang}.retry' needs {{problem}}")
    return data


class LLMEmotionScorer(EmotionScorer):
    """The Figure 9 prompt on a chat function ``chat(messages) -> reply text``.

    Each unusable reply (no JSON, missing dimensions, a transport error) is retried up to ``retries``
    times; parse failures are answered with a correction message in the same conversation. After the
    last attempt: with ``allow_partial`` the best partial reply is used (missing dimensions score 1),
    otherwise :class:`EmotionScoringError` lists what went wrong in every attempt.
    """

    def __init__(self, chat: ChatFn, retries: int = 2, allow_partial: bool = False, name: str = "llm",
                 prompt_file: str | os.PathLike = PROMPT_FILE):
        if retries < 0:
            raise ValueError("retries must be >= 0")
        self.chat = chat
        self.retries = retries
        self.allow_partial = allow_partial
        self.name = name
        self.prompts = load_scoring_prompts(str(prompt_file))

    def messages(self, text: str, lang: str | None = None) -> list[dict]:
        block = self.prompts[resolve_language(lang, text)]
        return [{"role": "system", "content": block["system"]},
                {"role": "user", "content": block["user"].replace("{text}", text.strip())}]

    def _score_one(self, text: str, lang: str | None) -> np.ndarray:
        lang = resolve_language(lang, text)
        messages = self.messages(text, lang)
        problems: list[str] = []
        best: dict[str, float] = {}
        for attempt in range(1, self.retries + 2):
            try:
                reply = self.chat(messages)
            except Exception as exc:  # endpoint or generation failure: try again, report all at the end
                problems.append(f"attempt {attempt}: {type(exc).__name__}: {exc}")
                continue
            try:
                return parse_emotion_reply(reply)
            except EmotionParseError as exc:
                problems.append(f"attempt {attempt}: {exc} (reply began {str(reply)[:120]!r})")
                if len(exc.found) > len(best):
                    best = exc.found
                retry = self.prompts[lang]["retry"].replace("{problem}", str(exc))
                messages = messages[:2] + [{"role": "assistant", "content": str(reply)},
                                           {"role": "user", "content": retry}]
        if self.allow_partial and best:
            return np.array([best.get(d, MIN_SCORE) for d in EMOTION_DIMS], dtype=np.float32)
        raise EmotionScoringError(f"{self.name}: no complete emotion scores after {self.retries + 1} attempt(s):\n  "
                                  + "\n  ".join(problems))


def transformers_chat(model, tokenizer=None, max_new_tokens: int = 512) -> ChatFn:
    """A chat function over a loaded transformers model (or an ``empath.generation.ChatGenerator``),
    using the tokenizer's chat template and greedy decoding."""
    from .generation import ChatGenerator, SamplingSettings

    generator = model if isinstance(model, ChatGenerator) else ChatGenerator(model, tokenizer)
    if generator.tokenizer is None or not getattr(generator.tokenizer, "chat_template", None):
        raise EmotionScoringError("the local model's tokenizer has no chat template; use an instruct model")
    settings = SamplingSettings(temperature=0.0, max_new_tokens=max_new_tokens)

    def chat(messages: list[dict]) -> str:
        return "".join(generator.stream(messages, settings))

    return chat


def openai_chat(model: str | None = None, *, base_url: str | None = None, api_key: str | None = None,
                client=None, temperature: float = 0.0, max_tokens: int = 800, timeout: float = 60.0) -> ChatFn:
    """A chat function over an OpenAI-compatible endpoint. Defaults come from ``EMPATH_LLM_MODEL``,
    ``EMPATH_LLM_BASE_URL`` and ``EMPATH_LLM_API_KEY`` (``OPENAI_API_KEY`` also works)."""
    model = model or os.environ.get("EMPATH_LLM_MODEL")
    if not model:
        raise EmotionScoringError("no model name for the LLM emotion scorer: set EMPATH_LLM_MODEL "
                                  "(and EMPATH_LLM_BASE_URL / EMPATH_LLM_API_KEY for your endpoint)")
    if client is None:
        base_url = base_url or os.environ.get("EMPATH_LLM_BASE_URL") or None
        api_key = api_key or os.environ.get("EMPATH_LLM_API_KEY") or os.environ.get("OPENAI_API_KEY")
        if not base_url and not api_key:
            raise EmotionScoringError("the LLM emotion scorer needs EMPATH_LLM_BASE_URL (a local OpenAI-compatible "
                                      "server) or EMPATH_LLM_API_KEY")
        from openai import OpenAI

        # Local servers (vLLM, llama.cpp, Ollama) accept any key; the client insists on one.
        client = OpenAI(base_url=base_url, api_key=api_key or "not-needed", timeout=timeout, max_retries=2)

    def chat(messages: list[dict]) -> str:
        response = client.chat.completions.create(model=model, messages=messages, temperature=temperature,
                                                  max_tokens=max_tokens)
        return response.choices[0].message.content or ""

    return chat


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
