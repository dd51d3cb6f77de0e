"""Persona voice: does a reply sound like the persona it was written for?

A character-n-gram classifier (TF-IDF over ``char_wb`` 2-5-grams + logistic regression) is fitted **only on
each persona's own texts**: its profile (name, aliases and source, background, personality, traits), its
speaking-style description and examples from the role bank, and the texts of its experiences. It is never
fitted on dialogues or generated replies, so it measures whether a reply carries the persona's own words,
names and world, not whether it resembles some training reply.

    clf = PersonaVoiceClassifier().fit()          # default role bank and experiences/, English
    clf.cross_validate()                          # accuracy on the personas' own texts (stratified k-fold)
    clf.predict(["Ha! Little friend, even old Sun got squashed under a mountain once."])  # ['sun_wukong']
    persona_voice_accuracy(replies, personas)     # share of replies named as the persona they were forced to

Chance is ``1 / number of personas`` (11 % for the nine built-in ones). A reply can also "sound like" a persona
just by saying its name (often to the seeker: "Hello Naruto, how are you?"), so the report also scores the
replies with every persona's name masked (:func:`mask_persona_names`) and counts the replies that name one.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

DEFAULT_NGRAM_RANGE = (2, 5)
DEFAULT_C = 10.0
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+")


@dataclass
class PersonaText:
    text: str
    role: str
    kind: str  # "name", "profile", "style", "example", "experience"
    group: str = ""  # texts from one source item share a group (cross-validation keeps them in one fold)


def persona_texts(bank=None, experience_bank=None, lang: str = "en", roles: Sequence[str] | None = None,
                  experience_chunk: str = "text", chunk_sentences: int = 2) -> list[PersonaText]:
    """Each persona's own texts: profile and style from the role bank, plus its experiences' texts.

    ``experience_chunk``: ``"text"`` (default) keeps each experience whole; ``"sentences"`` splits it into
    windows of ``chunk_sentences`` sentences, closer in length to a reply (a window's ``group`` is its
    experience id, so cross-validation never splits one experience across folds).
    """
    from .roles import load_roles

    bank = bank if bank is not None else load_roles()
    if experience_bank is None:
        from .experiences import ExperienceBank

        experience_bank = ExperienceBank.load(roles=bank)
    wanted = list(roles) if roles is not None else bank.ids
    out: list[PersonaText] = []
    for role_id in wanted:
        role = bank.get(role_id)
        names = ", ".join([role.name(lang), *role.aliases])
        out.append(PersonaText(f"{names}. {role.source(lang)}", role.id, "name", f"{role.id}:name"))
        profile = role.profile.get(lang) or role.profile.get("en", {})
        for key in ("background", "personality"):
            if profile.get(key):
                out.append(PersonaText(profile[key], role.id, "profile", f"{role.id}:{key}"))
        if profile.get("traits"):
            out.append(PersonaText("; ".join(profile["traits"]), role.id, "profile", f"{role.id}:traits"))
        if role.style_description(lang):
            out.append(PersonaText(role.style_description(lang), role.id, "style", f"{role.id}:style"))
        for i, example in enumerate(role.style_examples(lang)):
            out.append(PersonaText(example, role.id, "example", f"{role.id}:example{i}"))
        if role.id not in getattr(experience_bank, "roles", ()):
            continue
        for exp in experience_bank.experiences(role.id):
            text = exp.text.get(lang, "")
            if not text:
                continue
            if experience_chunk == "text":
                out.append(PersonaText(text, role.id, "experience", exp.id))
                continue
            sentences = [s for s in _SENTENCE_END.split(text.strip()) if s]
            for start in range(0, len(sentences), chunk_sentences):
                window = " ".join(sentences[start:start + chunk_sentences])
                out.append(PersonaText(window, role.id, "experience", exp.id))
    return out


def persona_name_pattern(names: Sequence[str]) -> re.Pattern | None:
    """Any part of these names, or a misspelling that keeps a part's first four letters (case as written)."""
    latin, cjk = set(), set()
    for name in names:
        for part in re.split(r"[\s·]+", name):
            if re.search(r"[\u4e00-\u9fff]", part):
                cjk.add(re.escape(part))
            elif len(part) >= 3:
                latin.add(re.escape(part[:4]) + r"\w*")
    alternatives = ([r"\b(?:" + "|".join(sorted(latin)) + ")"] if latin else []) + sorted(cjk)
    return re.compile("|".join(alternatives)) if alternatives else None


def mask_persona_names(text: str, pattern: re.Pattern | None) -> str:
    """``text`` with every match of ``pattern`` (a persona's name) removed."""
    return re.sub(r"\s{2,}", " ", pattern.sub("", text)).strip() if pattern else text


@dataclass
class PersonaVoiceClassifier:
    """Char-n-gram TF-IDF + logistic regression over the personas' own texts (see the module docstring)."""

    ngram_range: tuple[int, int] = DEFAULT_NGRAM_RANGE
    c: float = DEFAULT_C
    experience_chunk: str = "text"
    chunk_sentences: int = 2
    seed: int = 0
    texts: list[PersonaText] = field(default_factory=list, repr=False)
    names: list[str] = field(default_factory=list, repr=False)  # the personas' names, for masking them
    _pipeline: object = field(default=None, repr=False)

    # -- fitting -------------------------------------------------------------------------------
    def _make_pipeline(self):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(self.ngram_range), lowercase=True,
                                     sublinear_tf=True, min_df=1)
        head = LogisticRegression(C=self.c, max_iter=5000, class_weight="balanced", random_state=self.seed)
        return make_pipeline(vectorizer, head)

    def fit(self, bank=None, experience_bank=None, lang: str = "en",
            roles: Sequence[str] | None = None) -> "PersonaVoiceClassifier":
        """Fit on every persona's own texts (role bank + experiences); returns self."""
        from .roles import load_roles

        bank = bank if bank is not None else load_roles()
        texts = persona_texts(bank, experience_bank, lang, roles, self.experience_chunk, self.chunk_sentences)
        self.fit_texts(texts)
        self.names = [bank.get(role_id).name(lang) for role_id in self.roles]
        return self

    def fit_texts(self, texts: Sequence[PersonaText]) -> "PersonaVoiceClassifier":
        self.texts = list(texts)
        if len({t.role for t in self.texts}) < 2:
            raise ValueError("persona voice needs the texts of at least two personas")
        self._pipeline = self._make_pipeline().fit([t.text for t in self.texts], [t.role for t in self.texts])
        return self

    # -- prediction ----------------------------------------------------------------------------
    def _check_fitted(self):
        if self._pipeline is None:
            raise RuntimeError("PersonaVoiceClassifier is not fitted; call fit() first")
        return self._pipeline

    @property
    def roles(self) -> list[str]:
        return [str(c) for c in self._check_fitted().classes_]

    def predict(self, texts: Sequence[str]) -> list[str]:
        """The persona each text sounds most like (one role id per text)."""
        if not texts:
            return []
        return [str(r) for r in self._check_fitted().predict(list(texts))]

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """``[n, len(self.roles)]`` probabilities, columns in ``self.roles`` order."""
        return self._check_fitted().predict_proba(list(texts))

    def score(self, texts: Sequence[str], personas: Sequence[str]) -> float:
        """Share of ``texts`` predicted as the matching entry of ``personas``."""
        if len(texts) != len(personas):
            raise ValueError(f"{len(texts)} texts but {len(personas)} personas")
        if not texts:
            return float("nan")
        return float(np.mean([p == g for p, g in zip(self.predict(texts), personas)]))

    # -- evaluation ----------------------------------------------------------------------------
    def cross_validate(self, folds: int = 5, seed: int | None = None) -> dict:
        """Stratified, grouped k-fold accuracy on the fitted texts (one experience never spans two folds).

        Returns ``{"accuracy": mean, "std", "per_fold", "n", "folds", "chance"}``.
        """
        from sklearn.model_selection import StratifiedGroupKFold

        if not self.texts:
            raise RuntimeError("PersonaVoiceClassifier is not fitted; call fit() first")
        x = np.asarray([t.text for t in self.texts], dtype=object)
        y = np.asarray([t.role for t in self.texts])
        groups = np.asarray([t.group or f"{i}" for i, t in enumerate(self.texts)])
        splitter = StratifiedGroupKFold(folds, shuffle=True, random_state=self.seed if seed is None else seed)
        scores = []
        for train, test in splitter.split(x, y, groups):
            model = self._make_pipeline().fit(list(x[train]), y[train])
            scores.append(float(np.mean(model.predict(list(x[test])) == y[test])))
        return {"accuracy": float(np.mean(scores)), "std": float(np.std(scores)), "per_fold": scores,
                "n": len(y), "folds": folds, "chance": 1.0 / len(set(y))}


_DEFAULT: dict[str, PersonaVoiceClassifier] = {}


def default_classifier(lang: str = "en") -> PersonaVoiceClassifier:
    """A classifier fitted once per language on the default role bank and experiences (cached)."""
    if lang not in _DEFAULT:
        _DEFAULT[lang] = PersonaVoiceClassifier().fit(lang=lang)
    return _DEFAULT[lang]


def persona_voice_report(replies: Sequence[str], personas: Sequence[str],
                         classifier: PersonaVoiceClassifier | None = None, lang: str = "en") -> dict:
    """Accuracy overall and per persona, the confusion counts and chance, for replies forced to ``personas``;
    ``names_masked``: the accuracy with every persona's name masked and how many replies name a persona."""
    if len(replies) != len(personas):
        raise ValueError(f"{len(replies)} replies but {len(personas)} personas")
    clf = classifier or default_classifier(lang)
    predicted = clf.predict(list(replies))
    per: dict[str, dict] = {}
    for gold, pred in zip(personas, predicted):
        row = per.setdefault(gold, {"n": 0, "correct": 0, "predicted": Counter()})
        row["n"] += 1
        row["correct"] += int(gold == pred)
        row["predicted"][pred] += 1
    for row in per.values():
        row["accuracy"] = row["correct"] / row["n"]
        row["predicted"] = dict(row["predicted"].most_common())
    n = len(replies)
    report = {"n": n, "accuracy": (sum(r["correct"] for r in per.values()) / n) if n else float("nan"),
              "chance": 1.0 / len(clf.roles), "per_persona": per, "predicted": predicted}
    pattern = persona_name_pattern(clf.names)
    if pattern is not None and n:
        masked = [mask_persona_names(reply, pattern) for reply in replies]
        correct = sum(gold == pred for gold, pred in zip(personas, clf.predict(masked)))
        report["names_masked"] = {"accuracy": correct / n,
                                  "naming": sum(bool(pattern.search(reply)) for reply in replies)}
    return report


def persona_voice_accuracy(replies: Sequence[str], personas: Sequence[str],
                           classifier: PersonaVoiceClassifier | None = None, lang: str = "en") -> float:
    """Share of replies that the persona-voice classifier names as the persona they were written for."""
    return persona_voice_report(replies, personas, classifier, lang)["accuracy"]
