"""Reading a model's rewritten dialogue back into turns, and the Section 3.3 checks a derived dialogue must pass."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

from .dialogue import SEEKER, SUPPORTER, DatasetFormatError, Turn
from .dialogue.readers.multiturn import _STRATEGY_PREFIX, _TAG_LINE, parse_turns


class Rejected(Exception):
    """A row is dropped: ``reason`` is the short category counted in the report, ``detail`` the specifics."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason, self.detail = reason, detail


_FENCE = re.compile(r"^\s*```[\w-]*\s*$")


def parse_dialogue_text(text: str) -> list[Turn]:
    """Turns from a model answer in the multi-turn text format, checked for Section 3.3's format rules.

    Code fences and any preamble before the first speaker tag are ignored. Raises :class:`Rejected` with
    reasons ``format: no dialogue``, ``format: invalid strategy``, ``format: missing strategy``,
    ``format: several strategies``, ``format: starts with the supporter``, ``format: not one-on-one``.
    """
    lines = [(i, line) for i, line in enumerate(str(text).split("\n"), start=1) if not _FENCE.match(line)]
    first = next((k for k, (_, line) in enumerate(lines) if _TAG_LINE.match(line)), None)
    if first is None:
        raise Rejected("format: no dialogue", f"no speaker tag in {str(text).strip()[:60]!r}")
    try:
        turns = parse_turns(lines[first:], Path("<reply>"))
    except DatasetFormatError as exc:
        msg = str(exc)
        reason = ("format: invalid strategy" if "unknown strategy" in msg or "empty strategy" in msg else
                  "format: strategy on a seeker turn" if "seeker turn cannot carry" in msg else "format: no dialogue")
        raise Rejected(reason, str(exc).replace("<reply>:", "line ")) from None
    if turns[0].speaker != SEEKER:
        raise Rejected("format: starts with the supporter")
    for i, turn in enumerate(turns):
        if i and turn.speaker == turns[i - 1].speaker:
            raise Rejected("format: not one-on-one", f"turns {i} and {i + 1} are both {turn.speaker} turns")
        if turn.speaker == SUPPORTER:
            if turn.strategy is None:
                raise Rejected("format: missing strategy", f"supporter turn {i + 1}: {turn.text[:40]!r}")
            if _STRATEGY_PREFIX.match(turn.text):
                raise Rejected("format: several strategies", f"supporter turn {i + 1}: {turn.text[:40]!r}")
    if turns[-1].speaker != SUPPORTER:
        raise Rejected("format: not one-on-one", "the dialogue ends with the seeker")
    return turns


def rounds(turns: Sequence[Turn]) -> int:
    """Rounds of a one-on-one dialogue: seeker turns, each answered by the supporter."""
    return sum(1 for t in turns if t.speaker == SEEKER)


def same_structure(before: Sequence[Turn], after: Sequence[Turn]) -> str | None:
    """Why ``after`` does not keep ``before``'s speakers and strategies (None when it does)."""
    if len(before) != len(after):
        return f"{len(before)} turns became {len(after)}"
    for i, (a, b) in enumerate(zip(before, after)):
        if (a.speaker, a.strategy) != (b.speaker, b.strategy):
            return f"turn {i + 1}: {a.speaker} [{a.strategy}] became {b.speaker} [{b.strategy}]"
    return None


def _grams(text: str, lang: str) -> set:
    if lang == "zh":
        chars = re.sub(r"\s+", "", text)
        return {chars[i:i + 2] for i in range(len(chars) - 1)}
    words = re.findall(r"[a-z']+", text.lower())
    return {" ".join(words[i:i + 2]) for i in range(len(words) - 1)}


def attribute_experiences(before: Sequence[Turn], after: Sequence[Turn], experiences: Sequence, lang: str,
                          threshold: float = 0.12) -> None:
    """Set ``experience_id`` on the supporter turns of ``after`` that took up one of ``experiences``: the turn
    changed and shares at least ``threshold`` of its new word (character) bigrams with the experience text."""
    for old, new in zip(before, after):
        if new.speaker != SUPPORTER or old.text == new.text or not experiences:
            continue
        added = _grams(new.text, lang) - _grams(old.text, lang)
        if not added:
            continue
        scored = [(len(added & _grams(e.text_for(lang), lang)) / len(added), e.id) for e in experiences]
        score, best = max(scored)
        if score >= threshold:
            new.experience_id = best
