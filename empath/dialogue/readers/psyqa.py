"""PsyQA (JSON list or JSONL): one dialogue per answer, split along its strategy-labelled spans."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

from ...roles import RoleBank, load_roles
from ...strategies import normalize_strategy
from ..schema import SEEKER, SUPPORTER, Background, Dialogue, Dialogues, Turn
from ._records import (KEYWORD_SPLIT, collect, dialogue_language, iter_json_records, list_field, reason,
                       require_object, str_field)


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


def _parse_psyqa(path: Path, bank: RoleBank) -> Callable[[Any, int], list[Dialogue]]:
    def parse(record: Any, index: int) -> list[Dialogue]:
        record = require_object(record)
        qid = str(record.get("questionID", index))
        keywords = record.get("keywords") or []
        if isinstance(keywords, str):
            keywords = KEYWORD_SPLIT.split(keywords)
        if not isinstance(keywords, list):
            raise ValueError(f"record {qid}: keywords must be a string or a list")
        keywords = [str(k).strip() for k in keywords if str(k).strip()]
        if not keywords:
            raise ValueError(f"record {qid}: no keywords (the first keyword names the topic)")
        try:
            topic = bank.topic(keywords[0])
        except KeyError as exc:
            raise ValueError(f"record {qid}: {reason(exc)}") from None
        question = str_field(record, "question").strip()
        description = str_field(record, "description", required=False).strip()
        seeker_text = "\n".join(x for x in (question, description) if x)
        answers = list_field(record, "answers")
        if not answers:
            raise ValueError(f"record {qid}: no answers")
        out = []
        for a, answer in enumerate(answers):
            background = Background(question, description, list(keywords), topic.id, bank.role_for_topic(topic.id).id)
            try:
                turns = [Turn(SEEKER, seeker_text)] + _psyqa_turns(answer, a)
            except ValueError as exc:
                raise ValueError(f"record {qid}: {exc}") from None
            lang = dialogue_language(turns, background)
            out.append(Dialogue(f"psyqa-{qid}-{a}", background, turns, lang, "psyqa"))
        return out

    return parse


def read_psyqa(path: str | os.PathLike, skip_invalid: bool = False, roles: RoleBank | None = None) -> Dialogues:
    """PsyQA (JSON list or JSONL): one dialogue per answer, split into strategy-labelled supporter turns."""
    path, bank = Path(path), roles if roles is not None else load_roles()
    return collect(path, iter_json_records(path), _parse_psyqa(path, bank), skip_invalid, bank)
