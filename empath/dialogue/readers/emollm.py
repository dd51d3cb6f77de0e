"""EmoLLM XTuner JSON (``[{"conversation": [{"system", "input", "output"}]}]``; no strategies)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

from ...roles import RoleBank
from ..schema import SEEKER, SUPPORTER, Background, Dialogue, Dialogues, Turn
from ._records import collect, dialogue_language, iter_json_records, list_field, require_object


def _parse_emollm(path: Path) -> Callable[[Any, int], list[Dialogue]]:
    def parse(record: Any, index: int) -> list[Dialogue]:
        record = require_object(record)
        turns = []
        for i, exchange in enumerate(list_field(record, "conversation")):
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
        lang = dialogue_language(turns, background)
        return [Dialogue(f"emollm-{path.stem}-{index:05d}", background, turns, lang, "emollm")]

    return parse


def read_emollm(path: str | os.PathLike, skip_invalid: bool = False, roles: RoleBank | None = None) -> Dialogues:
    """EmoLLM XTuner JSON (``[{"conversation": [{"system", "input", "output"}]}]``; no strategies)."""
    path = Path(path)
    return collect(path, iter_json_records(path), _parse_emollm(path), skip_invalid, roles)
