"""What every reader shares: JSON/JSONL records with their line numbers, field checks, and the loop that
turns a failing record into a ``file:line:`` error (or a skipped message)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from ..._data import DataFileError
from ...lang import detect_language
from ...roles import RoleBank
from ..schema import Background, DatasetFormatError, Dialogue, Dialogues, Turn

KEYWORD_SPLIT = re.compile(r"[,，、;；]")


def dialogue_language(turns: list[Turn], background: Background) -> str:
    """The language of a dialogue's background and first turns."""
    return detect_language(background.text() + "".join(t.text for t in turns[:6]))


def str_field(record: dict, name: str, *, required: bool = True) -> str:
    """A string field (missing and optional: ``""``); ValueError names what is wrong."""
    value = record.get(name)
    if value is None:
        if required:
            raise ValueError(f"missing field {name!r}")
        return ""
    if not isinstance(value, str):
        raise ValueError(f"field {name!r} must be a string, got {type(value).__name__}")
    return value


def list_field(record: dict, name: str) -> list:
    """A required list field; ValueError names what is wrong."""
    value = record.get(name)
    if not isinstance(value, list):
        raise ValueError(f"field {name!r} must be a list" if name in record else f"missing field {name!r}")
    return value


def reason(exc: Exception) -> str:
    """The message of a parsing failure, without the quotes a plain KeyError adds."""
    # KeyError subclasses in this project (UnknownRoleError, UnknownStrategyError) format themselves;
    # a plain KeyError would print a quoted repr.
    if type(exc) is KeyError and exc.args:
        return str(exc.args[0])
    return str(exc)


def iter_json_records(path: Path) -> Iterator[tuple[int, Any]]:
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


def collect(
    path: Path,
    records: Iterable[tuple[int, Any]],
    parse: Callable[[Any, int], Iterable[Dialogue]],
    skip_invalid: bool,
    roles: RoleBank | None = None,
) -> Dialogues:
    """Run ``parse(record, index)`` over records, turning any failure into a ``file:line:`` error; the
    dialogues are validated against ``roles`` (None: the default role bank)."""
    out = Dialogues()
    for index, (line, record) in enumerate(records):
        try:
            if isinstance(record, DatasetFormatError):
                raise record
            built = [d.validate(roles) for d in parse(record, index)]
        except DatasetFormatError as exc:
            if not skip_invalid:
                raise
            out.skipped.append(str(exc))
            continue
        except (ValueError, KeyError, TypeError) as exc:
            err = DatasetFormatError.at(path, line, reason(exc))
            if not skip_invalid:
                raise err from exc
            out.skipped.append(str(err))
            continue
        out.extend(built)
    return out


def require_object(record: Any) -> dict:
    """The record, if it is a JSON object."""
    if not isinstance(record, dict):
        raise ValueError(f"expected a JSON object, got {type(record).__name__}")
    return record
