"""ESConv: the Hugging Face split (JSONL) or the original ``ESConv.json`` list."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

from ...roles import RoleBank, load_roles
from ...strategies import normalize_strategy
from ..schema import SEEKER, SUPPORTER, Background, Dialogue, Dialogues, Turn
from ._records import collect, iter_json_records, list_field, require_object, str_field

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


def _parse_esconv(path: Path, bank: RoleBank) -> Callable[[Any, int], list[Dialogue]]:
    def parse(record: Any, index: int) -> list[Dialogue]:
        record = require_object(record)
        problem_type = str_field(record, "problem_type").strip()
        topic = bank.topic_for_problem_type(problem_type)
        background = Background(
            description=str_field(record, "situation", required=False).strip(),
            problem_type=problem_type,
            emotion=str_field(record, "emotion_type", required=False).strip() or None,
            topic=topic.id,
            role=bank.role_for_topic(topic.id).id,
        )
        turns = [_esconv_turn(item, i) for i, item in enumerate(list_field(record, "dialog"))]
        return [Dialogue(f"esconv-{path.stem}-{index:05d}", background, turns, "en", "esconv")]

    return parse


def read_esconv(path: str | os.PathLike, skip_invalid: bool = False, roles: RoleBank | None = None) -> Dialogues:
    """ESConv: the HF split (JSONL) or the original ``ESConv.json`` list; role/topic from problem_type."""
    path, bank = Path(path), roles if roles is not None else load_roles()
    return collect(path, iter_json_records(path), _parse_esconv(path, bank), skip_invalid, bank)
