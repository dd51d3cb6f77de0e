"""CPsyCounD JSONL (``{"id", "text"}``; ``来访者：`` / ``心理咨询师：`` paragraphs; no strategies)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

from ...roles import RoleBank
from ..schema import SEEKER, SUPPORTER, Background, Dialogue, Dialogues
from ._records import collect, dialogue_language, iter_json_records, require_object, str_field
from .multiturn import parse_turns


def _parse_cpsycoun(path: Path, line_of_record: dict[int, int]) -> Callable[[Any, int], list[Dialogue]]:
    def parse(record: Any, index: int) -> list[Dialogue]:
        record = require_object(record)
        text = str_field(record, "text")
        lineno = line_of_record[index]
        # all turns of a record sit on its JSONL line, so errors name that line
        lines = [(lineno, line) for line in text.splitlines()]
        turns = parse_turns(lines, path, strategies=False)
        if not any(t.speaker == SUPPORTER for t in turns):
            raise ValueError("no counsellor turn")
        background = Background(description=turns[0].text if turns[0].speaker == SEEKER else "")
        dialogue_id = str(record.get("id") or f"{path.stem}-{index:05d}")
        lang = dialogue_language(turns, background)
        return [Dialogue(f"cpsycoun-{dialogue_id}", background, turns, lang, "cpsycoun")]

    return parse


def read_cpsycoun(path: str | os.PathLike, skip_invalid: bool = False, roles: RoleBank | None = None) -> Dialogues:
    """CPsyCounD JSONL (``{"id", "text"}``; ``来访者：`` / ``心理咨询师：`` paragraphs; no strategies).

    The first client turn doubles as the background description (the dataset has no separate one).
    """
    path = Path(path)
    records = list(iter_json_records(path))
    line_of_record = {i: line for i, (line, _) in enumerate(records)}
    return collect(path, records, _parse_cpsycoun(path, line_of_record), skip_invalid, roles)
