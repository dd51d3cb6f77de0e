"""Speaker-tagged text: the paper's multi-turn format (also the turns inside CPsyCounD records)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterator

from ..._data import DataFileError
from ...roles import RoleBank, load_roles
from ...strategies import normalize_strategy
from ..schema import SEEKER, SUPPORTER, Background, DatasetFormatError, Dialogue, Dialogues, Turn
from ._records import KEYWORD_SPLIT, collect, dialogue_language, reason

SPEAKER_TAGS = {
    "求助者": SEEKER,
    "来访者": SEEKER,
    "help-seeker": SEEKER,
    "help seeker": SEEKER,
    "seeker": SEEKER,
    "支持者": SUPPORTER,
    "心理咨询师": SUPPORTER,
    "咨询师": SUPPORTER,
    "supporter": SUPPORTER,
}
_TAG_LINE = re.compile(
    r"^\s*(?:\*\*)?("  # optional markdown bold around the tag
    + "|".join(re.escape(t) for t in sorted(SPEAKER_TAGS, key=len, reverse=True))
    + r")(?:\*\*)?\s*[：:]\s*",
    re.IGNORECASE,
)
_STRATEGY_PREFIX = re.compile(r"^\s*[\[【]([^\]】]{1,40})[\]】]\s*")
_STAGE_DIRECTION = re.compile(r"^\s*[（(][^）)]*[）)]\s*$")  # "（一段时间后）"
_DIALOGUE_SEPARATOR = re.compile(r"^\s*-{3,}\s*$")
_HEADER = re.compile(r"^\s*#\s*([A-Za-z_]+)\s*[：:]\s*(.*?)\s*$")


def parse_turns(lines: list[tuple[int, str]], path: Path, *, strategies: bool = True) -> list[Turn]:
    """Turns from ``(line_number, text)`` pairs of speaker-tagged text.

    A turn starts at a line beginning with a speaker tag (``求助者：``, ``Supporter:`` ...); following
    untagged lines continue it. Supporter turns may start with ``[Strategy]`` (English or Chinese name).
    Whole-line stage directions in parentheses and ``---`` rules are ignored.
    """
    turns: list[Turn] = []
    starts: list[int] = []
    for lineno, line in lines:
        if not line.strip() or _STAGE_DIRECTION.match(line) or _DIALOGUE_SEPARATOR.match(line):
            continue
        m = _TAG_LINE.match(line)
        if m is None:
            if not turns:
                raise DatasetFormatError.at(path, lineno, f"text before the first speaker tag: {line.strip()[:40]!r}")
            turns[-1].text += "\n" + line.strip()
            continue
        speaker = SPEAKER_TAGS[m.group(1).lower()]
        text, strategy = line[m.end() :], None
        s = _STRATEGY_PREFIX.match(text) if strategies else None
        if s is not None:
            if speaker == SEEKER:
                raise DatasetFormatError.at(path, lineno, f"a seeker turn cannot carry a strategy ({s.group(1)!r})")
            try:
                strategy = normalize_strategy(s.group(1))
            except KeyError as exc:
                raise DatasetFormatError.at(path, lineno, reason(exc)) from None
            text = text[s.end() :]
        turns.append(Turn(speaker, text.strip(), strategy))  # the text may continue on the next lines
        starts.append(lineno)
    for turn, lineno in zip(turns, starts):
        turn.text = turn.text.strip()
        if not turn.text:
            raise DatasetFormatError.at(path, lineno, f"empty {turn.speaker} turn")
    return turns


def _split_dialogue_blocks(text: str) -> list[list[tuple[int, str]]]:
    blocks: list[list[tuple[int, str]]] = [[]]
    for lineno, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if _DIALOGUE_SEPARATOR.match(line):
            blocks.append([])
        else:
            blocks[-1].append((lineno, line))
    return [b for b in blocks if any(line.strip() for _, line in b)]


def _apply_header(background: Background, key: str, value: str) -> None:
    if key == "keywords":
        background.keywords = [k.strip() for k in KEYWORD_SPLIT.split(value) if k.strip()]
    elif key == "topic":
        background.topic = value
    elif key in ("question", "description", "role", "problem_type", "emotion"):
        setattr(background, key, value)
    else:
        raise ValueError(f"unknown header '# {key}:'")


def read_multiturn_text(path: str | os.PathLike, skip_invalid: bool = False,
                        roles: RoleBank | None = None) -> Dialogues:
    """The paper's multi-turn text format (Appendix C, Figures 14-16).

    ::

        # id: rebel-01
        # topic: 成长
        # role: sun_wukong
        求助者：父母总是约束我……

        支持者：[Question] 能告诉我具体的情境吗？
        ---
        Help-seeker: ...
        Supporter: [Reflection of feelings] ...

    Optional ``# key: value`` header lines before the first turn set ``id`` and background fields
    (``topic``, ``role``, ``question``, ``description``, ``keywords``, ``problem_type``, ``emotion``);
    a missing topic is derived from ``problem_type`` or ``role``, a missing role from the topic.
    Turns start at a speaker tag (``求助者``/``支持者`` or ``Help-seeker``/``Supporter``, full-width or ASCII
    colon) and usually sit in blank-line-separated paragraphs; untagged lines continue the current turn.
    Dialogues are separated by a line of three or more dashes. Strategies may use Chinese names.
    Errors point at the offending line; a skipped dialogue is the block between two separators.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataFileError(f"{path}: file not found") from None
    bank = roles if roles is not None else load_roles()

    def records() -> Iterator[tuple[int, list[tuple[int, str]]]]:
        for block in _split_dialogue_blocks(text):
            first = next(lineno for lineno, line in block if line.strip())
            yield first, block

    def parse(block: list[tuple[int, str]], index: int) -> list[Dialogue]:
        background, dialogue_id, body = Background(), f"{path.stem}-{index:05d}", []
        for lineno, line in block:
            header = _HEADER.match(line) if not body else None
            if header:
                key, value = header.group(1).lower(), header.group(2)
                try:
                    if key == "id":
                        dialogue_id = value
                    else:
                        _apply_header(background, key, value)
                except ValueError as exc:
                    raise DatasetFormatError.at(path, lineno, str(exc)) from None
            elif line.strip():
                body.append((lineno, line))
        if not body:
            raise ValueError("dialogue has no turns")
        turns = parse_turns(body, path)
        try:
            _fill_topic_and_role(background, bank)
        except KeyError as exc:
            first_line = next(lineno for lineno, line in block if line.strip())
            raise DatasetFormatError.at(path, first_line, reason(exc)) from None
        return [Dialogue(dialogue_id, background, turns, dialogue_language(turns, background), "multiturn")]

    return collect(path, records(), parse, skip_invalid, bank)


def _fill_topic_and_role(background: Background, bank: RoleBank) -> None:
    if background.topic is not None:
        background.topic = bank.topic(background.topic).id
    if background.role is not None:
        background.role = bank.resolve(background.role).id
    if background.topic is None and background.problem_type:
        background.topic = bank.topic_for_problem_type(background.problem_type).id
    if background.topic is None and background.role is not None:
        background.topic = bank.get(background.role).topic
    if background.role is None and background.topic is not None:
        background.role = bank.role_for_topic(background.topic).id
