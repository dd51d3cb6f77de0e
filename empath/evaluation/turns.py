"""The turns an evaluation answers, and how each is decoded.

Sampling (:func:`sample_turns`): supporter turns in file order; a turn is usable when its context ends with one
or more seeker turns (they are joined by a newline into the message); turns with an empty context or a
context ending with a supporter turn are skipped and counted. Of the usable turns every ``every``-th is
taken (the 1st, (K+1)-th, ...; with ``offset`` O, the (O+1)-th, (O+K+1)-th, ...: ``--every 7 --offset 3`` is a sample
disjoint from ``--every 7``), then the first ``max_turns`` of those.

The conversation: ``turns`` = the gold context before the seeker's message, ``background`` = the dataset's
question, description and keywords only (never its role, topic or problem type: the role is matched by the
pipeline, as in the app), ``lang`` = the dialogue's language. On a dialogue's first seeker turn (no history)
the pipeline itself uses the message as the background question, as the app does.

Decoding: ``app`` = :class:`SamplingSettings` defaults with a seed fixed per turn (CRC32 of run seed, dialogue
id and turn index, so a resumed run reproduces the same replies); ``greedy`` = the same with temperature 0;
``sample`` = the same with the paper's Table 6 sampling (temperature 0.7, top-p 0.95, top-k 50 as transformers'
default).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, replace
from typing import Iterable, Sequence

from ..dialogue import Background, Turn
from ..generation import SamplingSettings
from ..pipeline import Conversation

DECODINGS = ("app", "greedy", "sample")


class EvaluationError(ValueError):
    """A run cannot start or continue (bad system name, settings differing from the run being resumed)."""


@dataclass
class EvalTurn:
    """One supporter turn to answer: the gold history, the seeker's message and the human reply."""

    dialogue_id: str
    turn_index: int  # index of the gold reply in Dialogue.turns
    lang: str
    background: Background
    history: list[Turn]
    message: str
    gold: str
    gold_strategy: str | None = None

    @property
    def key(self) -> tuple[str, int]:
        """(dialogue id, turn index): what resumption matches on."""
        return (self.dialogue_id, self.turn_index)

    def conversation(self) -> Conversation:
        """A fresh pipeline conversation holding the gold history (no role: the pipeline matches it)."""
        return Conversation(id=f"{self.dialogue_id}#{self.turn_index}", lang=self.lang, background=self.background,
                            turns=[Turn(t.speaker, t.text, t.strategy) for t in self.history])

    def record(self) -> dict:
        """The turn's fields for ``predictions.jsonl``."""
        return {"dialogue_id": self.dialogue_id, "turn": self.turn_index, "lang": self.lang,
                "context": [[t.speaker, t.text] for t in self.history], "message": self.message,
                "gold": self.gold, "gold_strategy": self.gold_strategy}


def split_message(context: Sequence[Turn]) -> tuple[list[Turn], str] | None:
    """``(history, message)``: the trailing seeker turns joined by newlines; None if there are none."""
    start = len(context)
    while start and context[start - 1].speaker == "seeker":
        start -= 1
    if start == len(context):
        return None
    return list(context[:start]), "\n".join(t.text.strip() for t in context[start:])


def sample_turns(dialogues: Iterable, every: int = 1, max_turns: int | None = None,
                 offset: int = 0) -> tuple[list[EvalTurn], dict]:
    """The sampled turns (see the module docstring) and counts of supporter, usable and skipped turns."""
    if every < 1:
        raise EvaluationError("--every must be >= 1")
    if not 0 <= offset < every:
        raise EvaluationError(f"--offset must be in [0, --every - 1] = [0, {every - 1}], got {offset}")
    turns, counts = [], {"supporter_turns": 0, "usable": 0, "skipped_no_seeker_message": 0}
    for dialogue in dialogues:
        bg = dialogue.background
        background = Background(question=bg.question, description=bg.description, keywords=list(bg.keywords))
        for context, target in dialogue.supporter_targets():
            counts["supporter_turns"] += 1
            split = split_message(context)
            if split is None:
                counts["skipped_no_seeker_message"] += 1
                continue
            counts["usable"] += 1
            if (counts["usable"] - 1 - offset) % every or (max_turns is not None and len(turns) >= max_turns):
                continue
            history, message = split
            turns.append(EvalTurn(dialogue.id, len(context), dialogue.lang, background, history, message,
                                  target.text.strip(), target.strategy))
    return turns, counts


def turn_seed(seed: int, dialogue_id: str, turn_index: int) -> int:
    """A sampling seed fixed per (run seed, dialogue, turn): stable across processes and resumptions."""
    return zlib.crc32(f"{seed}:{dialogue_id}:{turn_index}".encode("utf-8"))


def decoding_settings(decoding: str = "app", **overrides) -> SamplingSettings:
    """The app's default decoding (``app``), the same at temperature 0 (``greedy``), the paper's Table 6 sampling
    at 0.7 / top-p 0.95 (``sample``) or sampling at a given temperature with top-p 0.95 (a number, e.g. ``"0.5"``);
    the last two keep transformers' default top-k of 50, as they were measured before the app's top-k 3.
    ``overrides``: :class:`SamplingSettings` fields to set (``max_new_tokens``, ``min_new_tokens``,
    ``persona_guidance``, ``persona_lexicon``, ``candidates``, ``consensus``); None keeps the default."""
    settings = SamplingSettings()
    nucleus = {"top_p": 0.95, "top_k": 50}
    if decoding == "greedy":
        settings = replace(settings, temperature=0.0)
    elif decoding == "sample":
        settings = replace(settings, temperature=0.7, **nucleus)
    elif decoding != "app":
        try:
            settings = replace(settings, temperature=float(decoding), **nucleus)
        except ValueError:  # not a number, or a temperature outside [0, 2]
            raise EvaluationError(f"unknown decoding {decoding!r}; valid: {', '.join(DECODINGS)} or a temperature "
                                  "in [0, 2]") from None
    return replace(settings, **{k: v for k, v in overrides.items() if v is not None})  # replace() validates
