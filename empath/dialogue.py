"""The one dialogue schema used across Empath, and readers for the datasets it is built from.

Every reader returns :class:`Dialogues` (a list of :class:`Dialogue` with a ``.skipped`` list).
A malformed record raises :class:`DatasetFormatError` whose message starts with ``file:line:``;
with ``skip_invalid=True`` the record is dropped and that message is appended to ``.skipped``.

Supported inputs (``read_dialogues(path, format=...)``):

``esconv``     ESConv, either the Hugging Face split (JSONL, ``dialog[{text, speaker: usr|sys, strategy}]``)
               or the original ``ESConv.json`` (a JSON list, ``dialog[{content, speaker: seeker|supporter,
               annotation: {strategy}}]``); auto-detected per record.
``psyqa``      PsyQA (JSON list or JSONL): one dialogue per answer; the seeker turn is question + description,
               the answer is split into supporter turns along its ``labels_sequence`` spans
               (``start`` inclusive, ``end`` exclusive character offsets).
``multiturn``  The paper's text format (see :func:`read_multiturn_text`).
``cpsycoun``   CPsyCounD JSONL ``{"id", "text"}`` with ``来访者：`` / ``心理咨询师：`` turns (no strategies).
``emollm``     EmoLLM XTuner JSON ``[{"conversation": [{"system", "input", "output"}]}]`` (no strategies).
``jsonl``      Our own format: one ``dataclasses.asdict(Dialogue)`` per line (:func:`write_jsonl`).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from ._data import DataFileError
from .lang import LANGUAGES, by_lang, detect_language, lang_key
from .roles import load_roles
from .strategies import normalize_strategy

SEEKER, SUPPORTER = "seeker", "supporter"
SPEAKERS = (SEEKER, SUPPORTER)
FORMATS = ("auto", "esconv", "psyqa", "multiturn", "cpsycoun", "emollm", "jsonl")


class DatasetFormatError(DataFileError):
    """A dataset record is malformed. ``str(err)`` is ``"file:line: reason"``."""

    def __init__(self, message: str, *, path: str | os.PathLike | None = None, line: int | None = None):
        super().__init__(message)
        self.path = None if path is None else str(path)
        self.line = line

    @classmethod
    def at(cls, path: str | os.PathLike, line: int, reason: str) -> "DatasetFormatError":
        return cls(f"{path}:{line}: {reason}", path=path, line=line)


# ---------------------------------------------------------------------------------------------
# Schema
# ---------------------------------------------------------------------------------------------
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
    def from_dict(cls, data: Any) -> "Dialogue":
        """Build and validate a dialogue from ``to_dict()`` output; raises ValueError naming the problem."""
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
        return dialogue.validate()

    def validate(self) -> "Dialogue":
        """Check the schema and normalise labels in place (strategies, topic and role ids); returns self.

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
        bank = load_roles()
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


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------
def _dialogue_language(turns: list[Turn], background: Background) -> str:
    return detect_language(background.text() + "".join(t.text for t in turns[:6]))


def _str_field(record: dict, name: str, *, required: bool = True) -> str:
    value = record.get(name)
    if value is None:
        if required:
            raise ValueError(f"missing field {name!r}")
        return ""
    if not isinstance(value, str):
        raise ValueError(f"field {name!r} must be a string, got {type(value).__name__}")
    return value


def _list_field(record: dict, name: str) -> list:
    value = record.get(name)
    if not isinstance(value, list):
        raise ValueError(f"field {name!r} must be a list" if name in record else f"missing field {name!r}")
    return value


def _reason(exc: Exception) -> str:
    # KeyError subclasses in this project (UnknownRoleError, UnknownStrategyError) format themselves;
    # a plain KeyError would print a quoted repr.
    if type(exc) is KeyError and exc.args:
        return str(exc.args[0])
    return str(exc)


def _iter_json_records(path: Path) -> Iterator[tuple[int, Any]]:
    """``(line, record)`` for a JSON list file or a JSONL file (decided by the first non-blank char).

    A JSONL line that is not JSON yields ``(line, DatasetFormatError)`` so callers may skip it;
    a broken JSON list cannot be resynchronised and raises.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataFileError(f"{path}: file not found") from None
    except UnicodeDecodeError as exc:
        raise DataFileError(f"{path}: not UTF-8 text ({exc.reason})") from None
    stripped = text.lstrip()
    if stripped.startswith("["):
        yield from _iter_json_list(path, text)
        return
    # split on "\n" only: JSON strings may hold U+2028 and friends, which str.splitlines() treats as breaks
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            yield lineno, json.loads(line)
        except json.JSONDecodeError as exc:
            yield lineno, DatasetFormatError.at(path, lineno, f"invalid JSON ({exc.msg}, column {exc.colno})")


def _iter_json_list(path: Path, text: str) -> Iterator[tuple[int, Any]]:
    decoder = json.JSONDecoder()
    ws = re.compile(r"\s*")

    def line_of(pos: int) -> int:
        return text.count("\n", 0, pos) + 1

    pos = ws.match(text, 0).end() + 1  # past "["
    line, counted_to = 1, 0
    expect_item = True
    while True:
        pos = ws.match(text, pos).end()
        if pos >= len(text):
            raise DatasetFormatError.at(path, line_of(pos), "unexpected end of file inside the JSON list")
        if text[pos] == "]":
            rest = text[pos + 1 :].strip()
            if rest:
                raise DatasetFormatError.at(path, line_of(pos + 1), "extra data after the JSON list")
            return
        if not expect_item:
            if text[pos] != ",":
                reason = f"expected ',' or ']' in the JSON list, got {text[pos]!r}"
                raise DatasetFormatError.at(path, line_of(pos), reason)
            pos += 1
            expect_item = True
            continue
        line += text.count("\n", counted_to, pos)
        counted_to = pos
        try:
            record, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise DatasetFormatError.at(path, exc.lineno, f"invalid JSON ({exc.msg}, column {exc.colno})") from None
        yield line, record
        expect_item = False


def _collect(
    path: Path,
    records: Iterable[tuple[int, Any]],
    parse: Callable[[Any, int], Iterable[Dialogue]],
    skip_invalid: bool,
) -> Dialogues:
    """Run ``parse(record, index)`` over records, turning any failure into a ``file:line:`` error."""
    out = Dialogues()
    for index, (line, record) in enumerate(records):
        try:
            if isinstance(record, DatasetFormatError):
                raise record
            built = [d.validate() for d in parse(record, index)]
        except DatasetFormatError as exc:
            if not skip_invalid:
                raise
            out.skipped.append(str(exc))
            continue
        except (ValueError, KeyError, TypeError) as exc:
            err = DatasetFormatError.at(path, line, _reason(exc))
            if not skip_invalid:
                raise err from exc
            out.skipped.append(str(err))
            continue
        out.extend(built)
    return out


def _require_object(record: Any) -> dict:
    if not isinstance(record, dict):
        raise ValueError(f"expected a JSON object, got {type(record).__name__}")
    return record


# ---------------------------------------------------------------------------------------------
# ESConv
# ---------------------------------------------------------------------------------------------
_ESCONV_SPEAKERS = {"usr": SEEKER, "seeker": SEEKER, "sys": SUPPORTER, "supporter": SUPPORTER}


def _esconv_turn(item: Any, i: int) -> Turn:
    if not isinstance(item, dict):
        raise ValueError(f"dialog[{i}]: expected an object")
    raw_speaker = item.get("speaker")
    speaker = _ESCONV_SPEAKERS.get(str(raw_speaker).strip().lower())
    if speaker is None:
        raise ValueError(f"dialog[{i}]: speaker must be usr/sys or seeker/supporter, got {raw_speaker!r}")
    if "content" in item:  # original ESConv.json
        text = item["content"]
        strategy = (item.get("annotation") or {}).get("strategy")
    else:  # Hugging Face split
        text = item.get("text")
        strategy = item.get("strategy")
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"dialog[{i}]: empty text")
    if speaker == SEEKER:
        strategy = None  # seeker turns are unannotated (the original file stores feedback there)
    elif strategy is not None:
        try:
            strategy = normalize_strategy(strategy)
        except KeyError as exc:
            raise ValueError(f"dialog[{i}]: {exc}") from None
    return Turn(speaker, text.strip(), strategy)


def _parse_esconv(path: Path) -> Callable[[Any, int], list[Dialogue]]:
    bank = load_roles()

    def parse(record: Any, index: int) -> list[Dialogue]:
        record = _require_object(record)
        problem_type = _str_field(record, "problem_type").strip()
        topic = bank.topic_for_problem_type(problem_type)
        background = Background(
            description=_str_field(record, "situation", required=False).strip(),
            problem_type=problem_type,
            emotion=_str_field(record, "emotion_type", required=False).strip() or None,
            topic=topic.id,
            role=bank.role_for_topic(topic.id).id,
        )
        turns = [_esconv_turn(item, i) for i, item in enumerate(_list_field(record, "dialog"))]
        return [Dialogue(f"esconv-{path.stem}-{index:05d}", background, turns, "en", "esconv")]

    return parse


def read_esconv(path: str | os.PathLike, skip_invalid: bool = False) -> Dialogues:
    """ESConv: the HF split (JSONL) or the original ``ESConv.json`` list; role/topic from problem_type."""
    path = Path(path)
    return _collect(path, _iter_json_records(path), _parse_esconv(path), skip_invalid)


# ---------------------------------------------------------------------------------------------
# PsyQA
# ---------------------------------------------------------------------------------------------
_KEYWORD_SPLIT = re.compile(r"[,，、;；]")


def _psyqa_turns(answer: Any, a: int) -> list[Turn]:
    if not isinstance(answer, dict):
        raise ValueError(f"answers[{a}]: expected an object")
    text = answer.get("answer_text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"answers[{a}]: empty answer_text")
    spans = answer.get("labels_sequence") or []
    if not isinstance(spans, list):
        raise ValueError(f"answers[{a}]: labels_sequence must be a list")
    turns, cursor = [], 0

    def add(piece: str, strategy: str | None) -> None:
        if not piece.strip():
            return
        if strategy is None and turns and not any(ch.isalnum() for ch in piece):
            turns[-1].text += piece.strip()  # stray punctuation between spans belongs to the span before
            return
        turns.append(Turn(SUPPORTER, piece.strip(), strategy))

    for s, span in enumerate(sorted(spans, key=lambda x: x.get("start", -1) if isinstance(x, dict) else -1)):
        where = f"answers[{a}].labels_sequence[{s}]"
        if not isinstance(span, dict):
            raise ValueError(f"{where}: expected an object")
        start, end = span.get("start"), span.get("end")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
            raise ValueError(f"{where}: span [{start}, {end}) is outside the answer (length {len(text)})")
        if start < cursor:
            raise ValueError(f"{where}: span [{start}, {end}) overlaps the previous span")
        try:
            strategy = normalize_strategy(span.get("type"))
        except KeyError as exc:
            raise ValueError(f"{where}: {exc}") from None
        add(text[cursor:start], None)  # unlabelled gap
        add(text[start:end], strategy)
        cursor = end
    add(text[cursor:], None)
    return turns


def _parse_psyqa(path: Path) -> Callable[[Any, int], list[Dialogue]]:
    bank = load_roles()

    def parse(record: Any, index: int) -> list[Dialogue]:
        record = _require_object(record)
        qid = str(record.get("questionID", index))
        keywords = record.get("keywords") or []
        if isinstance(keywords, str):
            keywords = _KEYWORD_SPLIT.split(keywords)
        if not isinstance(keywords, list):
            raise ValueError(f"record {qid}: keywords must be a string or a list")
        keywords = [str(k).strip() for k in keywords if str(k).strip()]
        if not keywords:
            raise ValueError(f"record {qid}: no keywords (the first keyword names the topic)")
        try:
            topic = bank.topic(keywords[0])
        except KeyError as exc:
            raise ValueError(f"record {qid}: {_reason(exc)}") from None
        question = _str_field(record, "question").strip()
        description = _str_field(record, "description", required=False).strip()
        seeker_text = "\n".join(x for x in (question, description) if x)
        answers = _list_field(record, "answers")
        if not answers:
            raise ValueError(f"record {qid}: no answers")
        out = []
        for a, answer in enumerate(answers):
            background = Background(question, description, list(keywords), topic.id, bank.role_for_topic(topic.id).id)
            try:
                turns = [Turn(SEEKER, seeker_text)] + _psyqa_turns(answer, a)
            except ValueError as exc:
                raise ValueError(f"record {qid}: {exc}") from None
            lang = _dialogue_language(turns, background)
            out.append(Dialogue(f"psyqa-{qid}-{a}", background, turns, lang, "psyqa"))
        return out

    return parse


def read_psyqa(path: str | os.PathLike, skip_invalid: bool = False) -> Dialogues:
    """PsyQA (JSON list or JSONL): one dialogue per answer, split into strategy-labelled supporter turns."""
    path = Path(path)
    return _collect(path, _iter_json_records(path), _parse_psyqa(path), skip_invalid)


# ---------------------------------------------------------------------------------------------
# Speaker-tagged text (the paper's multi-turn format, CPsyCounD)
# ---------------------------------------------------------------------------------------------
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
DISPLAY_TAGS = {
    "zh": {SEEKER: "求助者", SUPPORTER: "支持者"},
    "en": {SEEKER: "Help-seeker", SUPPORTER: "Supporter"},
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
                raise DatasetFormatError.at(path, lineno, _reason(exc)) from None
            text = text[s.end() :]
        turns.append(Turn(speaker, text.strip(), strategy))  # the text may continue on the next lines
        starts.append(lineno)
    for turn, lineno in zip(turns, starts):
        turn.text = turn.text.strip()
        if not turn.text:
            raise DatasetFormatError.at(path, lineno, f"empty {turn.speaker} turn")
    return turns


def format_turns(turns: Iterable[Turn], lang: str = "en", with_strategy: bool = True) -> str:
    """Speaker-tagged text, one turn per paragraph (blank line between turns)."""
    tags = DISPLAY_TAGS[lang_key(lang)]
    colon = by_lang(lang, en=": ", zh="：")
    paragraphs = []
    for t in turns:
        prefix = f"[{t.strategy}] " if with_strategy and t.strategy else ""
        paragraphs.append(f"{tags[t.speaker]}{colon}{prefix}{t.text}")
    return "\n\n".join(paragraphs)


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
        background.keywords = [k.strip() for k in _KEYWORD_SPLIT.split(value) if k.strip()]
    elif key == "topic":
        background.topic = value
    elif key in ("question", "description", "role", "problem_type", "emotion"):
        setattr(background, key, value)
    else:
        raise ValueError(f"unknown header '# {key}:'")


def read_multiturn_text(path: str | os.PathLike, skip_invalid: bool = False) -> Dialogues:
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
    bank = load_roles()

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
            raise DatasetFormatError.at(path, first_line, _reason(exc)) from None
        return [Dialogue(dialogue_id, background, turns, _dialogue_language(turns, background), "multiturn")]

    return _collect(path, records(), parse, skip_invalid)


def _fill_topic_and_role(background: Background, bank) -> None:
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


# ---------------------------------------------------------------------------------------------
# CPsyCounD and EmoLLM (no strategies)
# ---------------------------------------------------------------------------------------------
def _parse_cpsycoun(path: Path, line_of_record: dict[int, int]) -> Callable[[Any, int], list[Dialogue]]:
    def parse(record: Any, index: int) -> list[Dialogue]:
        record = _require_object(record)
        text = _str_field(record, "text")
        lineno = line_of_record[index]
        # all turns of a record sit on its JSONL line, so errors name that line
        lines = [(lineno, line) for line in text.splitlines()]
        turns = parse_turns(lines, path, strategies=False)
        if not any(t.speaker == SUPPORTER for t in turns):
            raise ValueError("no counsellor turn")
        background = Background(description=turns[0].text if turns[0].speaker == SEEKER else "")
        dialogue_id = str(record.get("id") or f"{path.stem}-{index:05d}")
        lang = _dialogue_language(turns, background)
        return [Dialogue(f"cpsycoun-{dialogue_id}", background, turns, lang, "cpsycoun")]

    return parse


def read_cpsycoun(path: str | os.PathLike, skip_invalid: bool = False) -> Dialogues:
    """CPsyCounD JSONL (``{"id", "text"}``; ``来访者：`` / ``心理咨询师：`` paragraphs; no strategies).

    The first client turn doubles as the background description (the dataset has no separate one).
    """
    path = Path(path)
    records = list(_iter_json_records(path))
    line_of_record = {i: line for i, (line, _) in enumerate(records)}
    return _collect(path, records, _parse_cpsycoun(path, line_of_record), skip_invalid)


def _parse_emollm(path: Path) -> Callable[[Any, int], list[Dialogue]]:
    def parse(record: Any, index: int) -> list[Dialogue]:
        record = _require_object(record)
        turns = []
        for i, exchange in enumerate(_list_field(record, "conversation")):
            if not isinstance(exchange, dict):
                raise ValueError(f"conversation[{i}]: expected an object")
            for key, speaker in (("input", SEEKER), ("output", SUPPORTER)):
                value = exchange.get(key)
                if not isinstance(value, str) or not value.strip():
                    raise ValueError(f"conversation[{i}]: empty {key!r}")
                turns.append(Turn(speaker, value.strip()))
        if not turns:
            raise ValueError("empty conversation")
        # EmoLLM's system prompt describes EmoLLM's own persona, not ours: it is not kept.
        background = Background(description=turns[0].text)
        lang = _dialogue_language(turns, background)
        return [Dialogue(f"emollm-{path.stem}-{index:05d}", background, turns, lang, "emollm")]

    return parse


def read_emollm(path: str | os.PathLike, skip_invalid: bool = False) -> Dialogues:
    """EmoLLM XTuner JSON (``[{"conversation": [{"system", "input", "output"}]}]``; no strategies)."""
    path = Path(path)
    return _collect(path, _iter_json_records(path), _parse_emollm(path), skip_invalid)


# ---------------------------------------------------------------------------------------------
# Our JSONL
# ---------------------------------------------------------------------------------------------
def read_jsonl(path: str | os.PathLike, skip_invalid: bool = False) -> Dialogues:
    """Dialogues written by :func:`write_jsonl` (validated and label-normalised on the way in)."""
    path = Path(path)
    return _collect(path, _iter_json_records(path), lambda record, _: [Dialogue.from_dict(record)], skip_invalid)


def write_jsonl(dialogues: Iterable[Dialogue], path: str | os.PathLike) -> int:
    """Validate and write one dialogue per line (UTF-8, non-ASCII kept readable); returns the count."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for n, dialogue in enumerate(dialogues, start=1):
            try:
                dialogue.validate()
            except (ValueError, KeyError) as exc:
                raise ValueError(f"dialogue #{n} ({getattr(dialogue, 'id', '?')}): {_reason(exc)}") from None
            fh.write(json.dumps(dialogue.to_dict(), ensure_ascii=False) + "\n")
    return n


# ---------------------------------------------------------------------------------------------
# Dispatch
# ---------------------------------------------------------------------------------------------
READERS: dict[str, Callable[..., Dialogues]] = {
    "esconv": read_esconv,
    "psyqa": read_psyqa,
    "multiturn": read_multiturn_text,
    "cpsycoun": read_cpsycoun,
    "emollm": read_emollm,
    "jsonl": read_jsonl,
}


def detect_format(path: str | os.PathLike) -> str:
    """Guess the format from the first record's fields (``.txt``/``.md`` files are multi-turn text)."""
    path = Path(path)
    if path.suffix.lower() in (".txt", ".md"):
        return "multiturn"
    for line, record in _iter_json_records(path):
        if isinstance(record, DatasetFormatError):
            raise record
        if not isinstance(record, dict):
            raise DatasetFormatError.at(path, line, f"expected a JSON object, got {type(record).__name__}")
        keys = set(record)
        if {"turns", "background"} <= keys:
            return "jsonl"
        if "dialog" in keys:
            return "esconv"
        if "answers" in keys or "questionID" in keys:
            return "psyqa"
        if "conversation" in keys:
            return "emollm"
        if "text" in keys:
            return "cpsycoun"
        reason = f"cannot tell the dataset format from fields {sorted(keys)}; pass format="
        raise DatasetFormatError.at(path, line, reason)
    raise DataFileError(f"{path}: empty file")


def read_dialogues(path: str | os.PathLike, format: str = "auto", skip_invalid: bool = False) -> Dialogues:
    """Read any supported dataset into dialogues; ``format`` is one of :data:`FORMATS`."""
    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; valid: {', '.join(FORMATS)}")
    if format == "auto":
        format = detect_format(path)
    return READERS[format](path, skip_invalid=skip_invalid)
