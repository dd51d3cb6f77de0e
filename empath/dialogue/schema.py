"""The one dialogue schema used across Empath (turns, background, dialogue) and its speaker-tagged text form.

Loads no dataset reader: those live in :mod:`empath.dialogue.readers`.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Iterator

from .._data import DataFileError
from ..lang import LANGUAGES, by_lang, lang_key
from ..roles import RoleBank, load_roles
from ..strategies import normalize_strategy

SEEKER, SUPPORTER = "seeker", "supporter"
SPEAKERS = (SEEKER, SUPPORTER)


class DatasetFormatError(DataFileError):
    """A dataset record is malformed. ``str(err)`` is ``"file:line: reason"``."""

    def __init__(self, message: str, *, path: str | os.PathLike | None = None, line: int | None = None):
        super().__init__(message)
        self.path = None if path is None else str(path)
        self.line = line

    @classmethod
    def at(cls, path: str | os.PathLike, line: int, reason: str) -> "DatasetFormatError":
        return cls(f"{path}:{line}: {reason}", path=path, line=line)


@dataclass
class Turn:
    speaker: str  # "seeker" | "supporter"
    text: str
    strategy: str | None = None  # canonical ESConv spelling (supporter turns only)
    experience_id: str | None = None  # role experience woven into this turn, if any


@dataclass
class Background:
    question: str = ""
    description: str = ""
    keywords: list[str] = field(default_factory=list)
    topic: str | None = None  # topic id from the role bank (e.g. "self_growth")
    role: str | None = None  # role id from the role bank (e.g. "sun_wukong")
    problem_type: str | None = None  # ESConv problem type, as written in the source
    emotion: str | None = None  # ESConv emotion_type

    def text(self) -> str:
        """Question and description as one string (what role matching and emotion scoring read)."""
        return "\n".join(x for x in (self.question.strip(), self.description.strip()) if x)


@dataclass
class Dialogue:
    id: str
    background: Background
    turns: list[Turn]
    lang: str = "en"
    source: str = ""

    # -- (de)serialisation -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any, roles: RoleBank | None = None) -> "Dialogue":
        """Build and validate (against ``roles``) a dialogue from ``to_dict()`` output; raises ValueError naming
        the problem."""
        if not isinstance(data, dict):
            raise ValueError(f"expected a JSON object, got {type(data).__name__}")
        unknown = set(data) - {"id", "background", "turns", "lang", "source"}
        if unknown:
            raise ValueError(f"unknown field(s) {sorted(unknown)}")
        bg = data.get("background") or {}
        if not isinstance(bg, dict):
            raise ValueError("'background' must be an object")
        bad_bg = set(bg) - set(Background.__dataclass_fields__)
        if bad_bg:
            raise ValueError(f"unknown background field(s) {sorted(bad_bg)}")
        turns = data.get("turns")
        if not isinstance(turns, list):
            raise ValueError("'turns' must be a list")
        built = []
        for i, t in enumerate(turns):
            if not isinstance(t, dict):
                raise ValueError(f"turn {i}: expected an object")
            bad = set(t) - set(Turn.__dataclass_fields__)
            if bad:
                raise ValueError(f"turn {i}: unknown field(s) {sorted(bad)}")
            if "speaker" not in t or "text" not in t:
                raise ValueError(f"turn {i}: needs 'speaker' and 'text'")
            built.append(Turn(**t))
        dialogue = cls(
            id=data.get("id"),
            background=Background(**{**bg, "keywords": list(bg.get("keywords") or [])}),
            turns=built,
            lang=data.get("lang", "en"),
            source=data.get("source", ""),
        )
        return dialogue.validate(roles)

    def validate(self, roles: RoleBank | None = None) -> "Dialogue":
        """Check the schema and normalise labels in place (strategies, topic and role ids, looked up in
        ``roles``; None: the default role bank); returns self.

        Raises ValueError with a short reason (readers prefix it with ``file:line:``).
        """
        if not isinstance(self.id, str) or not self.id.strip():
            raise ValueError("dialogue id must be a non-empty string")
        if self.lang not in LANGUAGES:
            raise ValueError(f"lang must be one of {LANGUAGES}, got {self.lang!r}")
        if not isinstance(self.source, str):
            raise ValueError("source must be a string")
        if not self.turns:
            raise ValueError("dialogue has no turns")
        for i, turn in enumerate(self.turns):
            if turn.speaker not in SPEAKERS:
                raise ValueError(f"turn {i}: speaker must be 'seeker' or 'supporter', got {turn.speaker!r}")
            if not isinstance(turn.text, str) or not turn.text.strip():
                raise ValueError(f"turn {i}: empty text")
            if turn.strategy is not None:
                if turn.speaker != SUPPORTER:
                    raise ValueError(f"turn {i}: a seeker turn cannot carry a strategy ({turn.strategy!r})")
                try:
                    turn.strategy = normalize_strategy(turn.strategy)
                except KeyError as exc:
                    raise ValueError(f"turn {i}: {exc}") from None
            if turn.experience_id is not None and not isinstance(turn.experience_id, str):
                raise ValueError(f"turn {i}: experience_id must be a string or null")
        bg = self.background
        for name in ("question", "description"):
            if not isinstance(getattr(bg, name), str):
                raise ValueError(f"background.{name} must be a string")
        if not all(isinstance(k, str) for k in bg.keywords):
            raise ValueError("background.keywords must be a list of strings")
        bank = roles if roles is not None else load_roles()
        if bg.topic is not None:
            bg.topic = bank.topic(bg.topic).id  # KeyError lists the valid topics
        if bg.role is not None:
            bg.role = bank.get(bg.role).id  # UnknownRoleError lists the valid ids
        return self

    # -- views -------------------------------------------------------------------------------
    def supporter_targets(self) -> Iterator[tuple[list[Turn], Turn]]:
        """``(context_turns, target_turn)`` for every supporter turn, in order.

        Consecutive supporter turns are each a target (the earlier ones become context of the later);
        a dialogue that opens with the supporter yields an empty context for that first turn.
        """
        for i, turn in enumerate(self.turns):
            if turn.speaker == SUPPORTER:
                yield self.turns[:i], turn

    def to_text(self, lang: str | None = None, with_strategy: bool = True) -> str:
        """The paper's multi-turn text format (the inverse of :func:`read_multiturn_text`)."""
        return format_turns(self.turns, lang or self.lang, with_strategy)


class Dialogues(list):
    """What every reader returns: the dialogues, plus ``skipped`` ("file:line: why") messages."""

    def __init__(self, items: Iterable[Dialogue] = (), skipped: Iterable[str] = ()):
        super().__init__(items)
        self.skipped: list[str] = list(skipped)

    def num_turns(self) -> int:
        return sum(len(d.turns) for d in self)


DISPLAY_TAGS = {
    "zh": {SEEKER: "求助者", SUPPORTER: "支持者"},
    "en": {SEEKER: "Help-seeker", SUPPORTER: "Supporter"},
}


def format_turns(turns: Iterable[Turn], lang: str = "en", with_strategy: bool = True) -> str:
    """Speaker-tagged text, one turn per paragraph (blank line between turns)."""
    tags = DISPLAY_TAGS[lang_key(lang)]
    colon = by_lang(lang, en=": ", zh="：")
    paragraphs = []
    for t in turns:
        prefix = f"[{t.strategy}] " if with_strategy and t.strategy else ""
        paragraphs.append(f"{tags[t.speaker]}{colon}{prefix}{t.text}")
    return "\n\n".join(paragraphs)
