"""The LLM-prompted emotion scorer (paper, Figure 9): a chat model rates the eight dimensions 1-10, and a
tolerant parser reads its reply."""

from __future__ import annotations

import ast
import json
import os
import re
from functools import lru_cache
from typing import Iterable

import numpy as np

from ._data import DataFileError, load_yaml
from .emotion import (EMOTION_DIMS, EMOTION_NAMES_ZH, MAX_SCORE, MIN_SCORE, PROMPT_FILE, ChatFn, EmotionParseError,
                      EmotionScorer, EmotionScoringError)
from .lang import resolve_language
from .openai_env import openai_client_from_env


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
        missing = EmotionScoringError("the LLM emotion scorer needs EMPATH_LLM_BASE_URL (a local OpenAI-compatible "
                                      "server) or EMPATH_LLM_API_KEY")
        client = openai_client_from_env(base_url, api_key, timeout=timeout, max_retries=2, missing=missing)

    def chat(messages: list[dict]) -> str:
        response = client.chat.completions.create(model=model, messages=messages, temperature=temperature,
                                                  max_tokens=max_tokens)
        return response.choices[0].message.content or ""

    return chat
