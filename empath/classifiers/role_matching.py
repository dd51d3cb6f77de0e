"""Role matching (Eq. 9): the persona for a seeker's background, with a probability over the whole role bank."""

from __future__ import annotations

import logging
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from .._numeric import softmax
from ..dialogue import Background
from ..roles import RoleBank, load_roles
from .base import ROLE_TASK, ClassifierInputError, pick_scorer
from ..encoder_cache import CachedEncoder, cached_encoder
from .folder import classifier_folder, load_scorers, read_config, write_section
from .inputs import _keyword_list, background_lang, role_text

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RolePrediction:
    role: str
    probs: dict[str, float]
    lang: str = "en"
    source: str = "head"  # "head" | "similarity" (a role the head was not trained on won) | "keyword"


KEYWORD_WEIGHT = 0.9  # probability mass a topic-naming first keyword moves to its persona
_KEYWORD_SEPARATORS = re.compile(r"[,，、;；/|\s]+")


def keyword_role(keywords: Iterable[str] | str | None, roles: RoleBank) -> str | None:
    """The persona of the topic the first keyword names (PsyQA: ``成长,迷茫`` -> the 成长 persona), looked up
    among the role bank's topic ids and English/Chinese names (``roles.yaml``); None when it names none."""
    keys = _keyword_list(keywords)
    first = next((k for k in _KEYWORD_SEPARATORS.split(keys[0]) if k), "") if keys else ""
    if not first:
        return None
    try:
        return roles.role_for_topic(roles.topic(first).id).id
    except KeyError:
        return None


class RoleMatcher:
    """Picks the persona for a seeker's background (Eq. 9); probabilities cover the whole role bank.

    Keywords, when given, are read the PsyQA way: a first keyword that names a topic of the role bank
    (``成长``, ``Career``...) moves ``KEYWORD_WEIGHT`` of the probability to that topic's persona
    (``source="keyword"``); other keywords are only part of the text the head reads.

    ``scorers`` maps a language (``en``/``zh``) to a backend; the detected language picks one (else
    ``default_lang``). Roles the head lacks get similarity scores against their topic description
    (softmax over cosine / temperature across all roles; the temperature is calibrated per head on
    its training data, ``temperature`` is the default); that mass is taken from the head's roles,
    so the head's ranking among its own roles never changes.
    """

    def __init__(self, scorers: dict[str, Any] | None = None, default_lang: str = "en",
                 roles: RoleBank | None = None, temperature: float = 0.05,
                 fallback_encoders: dict[str, str] | None = None, fallback: bool = True):
        self.scorers = dict(scorers or {})
        self.fallback = fallback  # False: roles without a head class get probability 0
        self.default_lang = default_lang if default_lang in self.scorers or not self.scorers else next(iter(self.scorers))
        self.roles = roles or load_roles()
        self.temperature = float(temperature)
        from ..encoders import DEFAULT_ENCODER, MULTILINGUAL_ENCODER

        self.fallback_encoders = {"en": DEFAULT_ENCODER, "zh": MULTILINGUAL_ENCODER, **(fallback_encoders or {})}
        self._descriptions: dict[tuple[str, str], np.ndarray] = {}
        self._lock = threading.Lock()
        for lang, scorer in self.scorers.items():
            dropped = [r for r in scorer.labels if r not in self.roles]
            if dropped:
                logger.warning("role head %s was trained on roles missing from the role bank (%s): ignored",
                               lang, ", ".join(dropped))

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def load(cls, path_or_repo: str | os.PathLike | None = None, roles: RoleBank | None = None,
             fallback: bool = True) -> "RoleMatcher":
        folder = classifier_folder(path_or_repo)
        config = read_config(folder)
        scorers, default = load_scorers(ROLE_TASK, folder, config)
        section = config.get(ROLE_TASK) or {}
        return cls(scorers, default, roles, section.get("temperature", 0.05), section.get("fallback_encoders"), fallback)

    def save(self, folder: str | os.PathLike, **extra) -> Path:
        return write_section(folder, ROLE_TASK, self.scorers, self.default_lang,
                             {"temperature": self.temperature, "fallback_encoders": self.fallback_encoders, **extra})

    # -- inference ------------------------------------------------------------------------------
    def untrained_roles(self, lang: str | None = None) -> list[str]:
        """Roles in the bank the head for ``lang`` has no class for (scored by similarity)."""
        if not self.scorers:
            return list(self.roles.ids)
        scorer = pick_scorer(self.scorers, self.default_lang, lang or self.default_lang)
        return [r for r in self.roles.ids if r not in scorer.labels] if self.fallback else []

    def _description_matrix(self, encoder: CachedEncoder, lang: str) -> np.ndarray:
        key = (encoder.name, lang)
        with self._lock:
            cached = self._descriptions.get(key)
        if cached is None:
            texts = []
            for role in self.roles:
                topic = self.roles.topic(role.topic)
                texts.append(f"{topic.name(lang)}: {topic.description(lang)}")
            cached = encoder.encoder.encode(texts)
            with self._lock:
                self._descriptions[key] = cached
        return cached

    def predict(self, question: str = "", description: str = "", keywords: Iterable[str] | str = (),
                lang: str | None = None) -> RolePrediction:
        return self.predict_batch([Background(question or "", description or "", _keyword_list(keywords))], lang=lang)[0]

    def predict_batch(self, backgrounds: Sequence[Background], lang: str | None = None,
                      use_keywords: bool = True) -> list[RolePrediction]:
        texts = []
        langs = []
        for i, bg in enumerate(backgrounds):
            text = role_text(bg, use_keywords)
            if not text:
                raise ClassifierInputError(
                    f"role matching input {i} is empty: give a question, a description or keywords")
            texts.append(text)
            langs.append(lang or background_lang(bg))
        out: list[RolePrediction | None] = [None] * len(texts)
        for group_lang in dict.fromkeys(langs):
            idx = [i for i, l in enumerate(langs) if l == group_lang]
            probs = self._proba([texts[i] for i in idx], group_lang)
            for row, i in zip(probs, idx):
                keyed = keyword_role(backgrounds[i].keywords, self.roles) if use_keywords else None
                if keyed is not None:  # PsyQA: the first keyword names the topic outright
                    row = (1.0 - KEYWORD_WEIGHT) * row
                    row[self.roles.ids.index(keyed)] += KEYWORD_WEIGHT
                best = int(row.argmax())
                role = self.roles.ids[best]
                source = "keyword" if keyed is not None else \
                    "similarity" if role in self.untrained_roles(group_lang) else "head"
                out[i] = RolePrediction(role, {r: float(p) for r, p in zip(self.roles.ids, row)}, group_lang, source)
        return out

    def _proba(self, texts: list[str], lang: str) -> np.ndarray:
        ids = self.roles.ids
        if not self.scorers:
            encoder = self._fallback_encoder(lang)
            return self._similarity(encoder.encode(texts), encoder, lang, self.temperature)
        scorer = pick_scorer(self.scorers, self.default_lang, lang)
        temperature = float(scorer.extra.get("temperature", self.temperature))
        # a scorer without classes (the similarity backend) leaves every role to similarity, fallback or not
        untrained = [r for r in ids if r not in scorer.labels] if self.fallback or not scorer.labels else []
        head, emb = scorer.role_scores(texts)
        encoder = scorer.encoder if emb is not None else None
        if untrained and emb is None:  # the fallback encoder loads only when some role needs it
            encoder = self._fallback_encoder(lang)
            emb = encoder.encode(texts)
        probs = np.zeros((len(texts), len(ids)), np.float32)
        known = [(ids.index(r), j) for j, r in enumerate(scorer.labels) if r in self.roles]
        cols, head_cols = [c for c, _ in known], [j for _, j in known]
        head = head[:, head_cols]
        head = head / np.maximum(head.sum(1, keepdims=True), 1e-12)
        if untrained:
            sim = self._similarity(emb, encoder, lang, temperature)
            new = [ids.index(r) for r in untrained]
            probs[:, new] = sim[:, new]
            probs[:, cols] = head * (1.0 - sim[:, new].sum(1, keepdims=True))
        else:
            probs[:, cols] = head
        return probs

    def _fallback_encoder(self, lang: str) -> CachedEncoder:
        return cached_encoder(self.fallback_encoders.get(lang, self.fallback_encoders["en"]))

    def _similarity(self, emb: np.ndarray, encoder: CachedEncoder, lang: str, temperature: float) -> np.ndarray:
        sims = emb @ self._description_matrix(encoder, lang).T
        return softmax(sims / temperature)
