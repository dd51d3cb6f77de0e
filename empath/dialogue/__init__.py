"""The one dialogue schema used across Empath, and readers for the datasets it is built from.

The schema (:mod:`.schema`) loads no dataset reader; the readers (:mod:`.readers`, one module per format) load
on first use of a reader name, e.g. ``from empath.dialogue import read_dialogues``.

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

import importlib

from ..lang import LANGUAGES, detect_language
from .schema import (DISPLAY_TAGS, SEEKER, SPEAKERS, SUPPORTER, Background, DatasetFormatError, Dialogue, Dialogues,
                     Turn, format_turns)

# the readers load on first access of one of these names (PEP 562), so the schema stays light
_READER_NAMES = ("FORMATS", "READERS", "SPEAKER_TAGS", "detect_format", "parse_turns", "read_cpsycoun",
                 "read_dialogues", "read_emollm", "read_esconv", "read_jsonl", "read_multiturn_text", "read_psyqa",
                 "write_jsonl")


def __getattr__(name: str):
    if name in _READER_NAMES:
        return getattr(importlib.import_module(f"{__name__}.readers"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_READER_NAMES])


__all__ = ["DISPLAY_TAGS", "LANGUAGES", "SEEKER", "SPEAKERS", "SUPPORTER", "Background", "DatasetFormatError",
           "Dialogue", "Dialogues", "Turn", "detect_language", "format_turns", *_READER_NAMES]
