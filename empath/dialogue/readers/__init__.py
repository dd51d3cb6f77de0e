"""The dataset readers. Every reader returns :class:`~empath.dialogue.Dialogues`; see :mod:`empath.dialogue`
for the supported formats."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from ..._data import DataFileError
from ...roles import RoleBank
from ..schema import DatasetFormatError, Dialogues
from ._records import iter_json_records
from .cpsycoun import read_cpsycoun
from .emollm import read_emollm
from .esconv import read_esconv
from .jsonl import read_jsonl, write_jsonl
from .multiturn import SPEAKER_TAGS, parse_turns, read_multiturn_text
from .psyqa import read_psyqa

FORMATS = ("auto", "esconv", "psyqa", "multiturn", "cpsycoun", "emollm", "jsonl")

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
    for line, record in iter_json_records(path):
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


def read_dialogues(path: str | os.PathLike, format: str = "auto", skip_invalid: bool = False,
                   roles: RoleBank | None = None) -> Dialogues:
    """Read any supported dataset into dialogues; ``format`` is one of :data:`FORMATS`; labels are checked
    against ``roles`` (None: the default role bank)."""
    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; valid: {', '.join(FORMATS)}")
    if format == "auto":
        format = detect_format(path)
    return READERS[format](path, skip_invalid=skip_invalid, roles=roles)


__all__ = ["FORMATS", "READERS", "SPEAKER_TAGS", "detect_format", "parse_turns", "read_cpsycoun", "read_dialogues",
           "read_emollm", "read_esconv", "read_jsonl", "read_multiturn_text", "read_psyqa", "write_jsonl"]
