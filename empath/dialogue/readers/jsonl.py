"""Our own JSONL: one ``Dialogue.to_dict()`` per line."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable

from ...roles import RoleBank
from ..schema import Dialogue, Dialogues
from ._records import collect, iter_json_records, reason


def read_jsonl(path: str | os.PathLike, skip_invalid: bool = False, roles: RoleBank | None = None) -> Dialogues:
    """Dialogues written by :func:`write_jsonl` (validated and label-normalised on the way in)."""
    path = Path(path)
    return collect(path, iter_json_records(path), lambda record, _: [Dialogue.from_dict(record, roles)],
                   skip_invalid, roles)


def write_jsonl(dialogues: Iterable[Dialogue], path: str | os.PathLike, roles: RoleBank | None = None) -> int:
    """Validate and write one dialogue per line (UTF-8, non-ASCII kept readable); returns the count."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for n, dialogue in enumerate(dialogues, start=1):
            try:
                dialogue.validate(roles)
            except (ValueError, KeyError) as exc:
                raise ValueError(f"dialogue #{n} ({getattr(dialogue, 'id', '?')}): {reason(exc)}") from None
            fh.write(json.dumps(dialogue.to_dict(), ensure_ascii=False) + "\n")
    return n
