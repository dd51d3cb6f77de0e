"""Persona lexicon: the words a persona uses when it counsels, and a decoding bonus for them.

A 135M model trained on persona dialogues still answers one context alike for every persona (README, "Persona
voice"). The lexicon is a cheap decoding-time push toward the persona's own vocabulary, in the spirit of PPLM's
bag-of-words control without its gradients: each persona's most distinctive words in the project's hand-written
persona replies (``seed_dialogues/``), by the log-odds ratio with an informative Dirichlet prior (Monroe, Colaresi
& Quinn 2008, "Fightin' Words") of that persona's replies against the other personas'. Stop words and every part of
every persona's name are left out, and the builder also leaves out proper nouns (other characters' names) and a
reviewed list of words a support bot should not be pushed toward. The replies answer different seekers, so some
words are the seekers' topics rather than the persona's voice.

    lexicons = distinctive_words(replies_by_persona, exclude=name_words(bank))    # training.build_persona_lexicon
    PersonaLexicon.load().words("sun_wukong")                                      # ['friend', 'old', 'road', ...]
    word_bias(words, tokenizer, 4.5)        # transformers' ``sequence_bias``: +4.5 for 'friend' ... +2.25 for the last

The bonus is ``SamplingSettings.persona_lexicon`` (0 = off); it applies to local models only.
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from ._data import PACKAGE_DATA, DataFileError, load_yaml

DEFAULT_LEXICON = PACKAGE_DATA / "persona_lexicon.yaml"
_WORD = re.compile(r"[a-z][a-z']+")
LEXICON_TAPER = 0.5  # the last word of a lexicon gets half the bonus of the first (word_bias)


def words_of(text: str) -> list[str]:
    """Lower-cased words (letters and inner apostrophes) of ``text``."""
    return _WORD.findall(text.lower())


def name_words(bank) -> set[str]:
    """Every word of every persona's names and aliases in ``bank`` (a RoleBank), in English."""
    out: set[str] = set()
    for role_id in bank.ids:
        role = bank.get(role_id)
        for name in (role.name("en"), *role.aliases):
            out.update(words_of(name))
    return out


def distinctive_words(texts_by_persona: Mapping[str, Iterable[str]], exclude: Iterable[str] = (), size: int = 40,
                      min_z: float = 2.0, min_count: int = 3, prior: float = 0.01) -> dict[str, list[str]]:
    """Each persona's ``size`` most distinctive words against the others' (log-odds z, informative Dirichlet prior)."""
    # Only words used at least min_count times with z >= min_z; never stop words, contractions, words under 3
    # letters or `exclude`. The prior is `prior` times the pooled counts (Monroe et al. 2008).
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    skip = set(exclude) | set(ENGLISH_STOP_WORDS)
    counts = {persona: Counter(w for text in texts for w in words_of(text)) for persona, texts in texts_by_persona.items()}
    pooled: Counter = sum(counts.values(), Counter())
    total = sum(pooled.values())
    prior_total = prior * total
    out = {}
    for persona, mine in counts.items():
        n_mine = sum(mine.values())
        n_rest = total - n_mine
        scores = {}
        for word, count in mine.items():
            if count < min_count or len(word) < 3 or word in skip or "'" in word:  # contractions: not a voice
                continue
            alpha = prior * pooled[word]
            rest = pooled[word] - count
            delta = (math.log((count + alpha) / (n_mine + prior_total - count - alpha))
                     - math.log((rest + alpha) / (n_rest + prior_total - rest - alpha)))
            scores[word] = delta / math.sqrt(1.0 / (count + alpha) + 1.0 / (rest + alpha))
        ranked = sorted((w for w in scores if scores[w] >= min_z), key=lambda w: (-scores[w], w))
        out[persona] = ranked[:size]
    return out


def word_bias(words: Sequence[str], tokenizer, bias: float, taper: float = LEXICON_TAPER) -> list[list]:
    """transformers' ``sequence_bias``: ``bias`` for the first (most distinctive) word, falling linearly to
    ``bias * (1 - taper)`` for the last; each word with a leading space, lower case and capitalised."""
    # Tapered rather than flat: the top words carry a persona's voice (dear, clue, genius), the tail is partly topic
    # noise (went, sent); at about the same mean bonus, tapered gave more voice on a development sample (README).
    # A word of several tokens gets the bonus on its last token once the others are there, never on its first:
    # that is often a fragment (" G", " W") or a common word, and favouring it everywhere breaks replies into loops.
    if not 0.0 <= taper <= 1.0:
        raise ValueError(f"taper must be in [0, 1] (a tail word is never penalised), got {taper}")
    seen = {}
    last = max(len(words) - 1, 1)
    for rank, word in enumerate(words):
        value = float(bias) * (1.0 - taper * rank / last)  # transformers refuses an int bias
        for form in (f" {word}", f" {word[:1].upper()}{word[1:]}"):
            ids = tuple(tokenizer(form, add_special_tokens=False)["input_ids"])
            if ids:
                seen.setdefault(ids, value)  # a form shared by two words keeps the higher-ranked word's bonus
    return [[list(ids), value] for ids, value in seen.items()]


@dataclass
class PersonaLexicon:
    """Per persona, the words of ``persona_lexicon.yaml``; a persona without an entry has none."""

    by_persona: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | os.PathLike | None = None) -> "PersonaLexicon":
        """The lexicon file (default: the shipped one); a missing default file means no lexicon."""
        path = Path(path) if path is not None else DEFAULT_LEXICON
        if path == DEFAULT_LEXICON and not path.exists():
            return cls()
        data = load_yaml(path) or {}
        personas = data.get("personas") if isinstance(data, dict) else None
        if not isinstance(personas, dict) or not all(
                isinstance(words, list) and all(isinstance(w, str) for w in words) for words in personas.values()):
            raise DataFileError(f"{path}: expected `personas:` mapping each persona id to a list of words")
        return cls({str(k): list(v) for k, v in personas.items()})

    def words(self, persona: str | None) -> list[str]:
        """The persona's words, or [] (unknown persona, or None)."""
        return list(self.by_persona.get(persona, [])) if persona else []


@lru_cache(maxsize=1)
def default_lexicon() -> PersonaLexicon:
    """The shipped lexicon, loaded once."""
    return PersonaLexicon.load()


__all__ = ["DEFAULT_LEXICON", "LEXICON_TAPER", "PersonaLexicon", "default_lexicon", "distinctive_words", "name_words",
           "word_bias", "words_of"]
