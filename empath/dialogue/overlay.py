"""Supporter replies written for turns of another dataset's dialogues ("reply overlays").

An overlay file stores only a reference and our text, one JSON object per line::

    {"dialogue_id": "esconv-train-00251", "turn": 3, "role": "juliet", "strategy": "Self-disclosure",
     "experience_id": "juliet-032", "reply": "..."}

``turn`` is the index of a supporter turn in that dialogue; the context is the dialogue's turns before it. So a
persona's reply to a real seeker can be trained on without copying the dataset (ESConv's licence stays with
ESConv: the overlay is useless without it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ..roles import RoleBank, load_roles
from ..strategies import normalize_strategy
from .readers._records import iter_json_records, reason, str_field
from .schema import SUPPORTER, DatasetFormatError, Dialogue, Turn


@dataclass(frozen=True)
class OverlayTarget:
    """One overlay reply joined with its context: what a training example needs."""

    dialogue_id: str
    role: str
    context: list[Turn]
    target: Turn  # speaker "supporter", our reply, its strategy and experience id


def read_overlay(path: str | os.PathLike, dialogues: Iterable[Dialogue], roles: RoleBank | None = None,
                 experiences=None) -> list[OverlayTarget]:
    """Join an overlay file with the dialogues it refers to; a bad line raises ``file:line: reason``. With
    ``experiences`` (an :class:`~empath.experiences.ExperienceBank`) every ``experience_id`` must be one of the
    reply persona's own."""
    path = Path(path)
    bank = roles if roles is not None else load_roles()
    by_id = {d.id: d for d in dialogues}
    out = []
    for line, record in iter_json_records(path):
        if isinstance(record, Exception):
            raise record
        try:
            out.append(_join(record, by_id, bank, experiences))
        except (ValueError, KeyError) as exc:
            raise DatasetFormatError.at(path, line, reason(exc)) from None
    return out


def _join(record, by_id: dict, bank: RoleBank, experiences) -> OverlayTarget:
    if not isinstance(record, dict):
        raise ValueError("each line must be a JSON object")
    dialogue_id = str_field(record, "dialogue_id")
    dialogue = by_id.get(dialogue_id)
    if dialogue is None:
        raise ValueError(f"dialogue {dialogue_id!r} is not in the dialogues given (wrong dataset file?)")
    turn = record.get("turn")
    if not isinstance(turn, int) or isinstance(turn, bool) or not 0 <= turn < len(dialogue.turns):
        raise ValueError(f"turn must be an index into the dialogue's {len(dialogue.turns)} turns, got {turn!r}")
    if dialogue.turns[turn].speaker != SUPPORTER:
        raise ValueError(f"turn {turn} of {dialogue_id} is a {dialogue.turns[turn].speaker} turn, not a supporter's")
    reply = str_field(record, "reply").strip()
    if not reply:
        raise ValueError("empty reply")
    role = bank.get(str_field(record, "role")).id  # UnknownRoleError lists the valid ids
    strategy = normalize_strategy(str_field(record, "strategy"))
    experience_id = record.get("experience_id") or None
    if experience_id is not None and experiences is not None:
        owner = experiences.get(str(experience_id)).role  # an unknown id: KeyError naming what exists
        if owner != role:
            raise ValueError(f"experience {experience_id!r} is {owner}'s, not {role}'s")
    return OverlayTarget(dialogue_id, role, list(dialogue.turns[:turn]),
                         Turn(SUPPORTER, reply, strategy=strategy, experience_id=experience_id))
