"""The data of one seeker turn: the conversation it belongs to, what each planning stage decided (small frozen
records) and the :class:`TurnResult` the pipeline assembles from them, the reply included."""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from .dialogue import Background, Turn
from .small_talk import background_with


@dataclass
class Conversation:
    """One help-seeker's session. ``role`` is fixed after the first turn that names a topic unless the user
    overrides it."""

    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    lang: str | None = None
    role: str | None = None
    crisis: bool = False  # set once any seeker turn was a crisis; later replies keep checking on safety
    background: Background = field(default_factory=Background)
    turns: list[Turn] = field(default_factory=list)
    results: list[dict] = field(default_factory=list)

    def open_situation(self) -> tuple[str | None, str | None]:
        """The situation (a worried helper, a threatened seeker) an earlier crisis reply started, and its category."""
        first = next((r["safety"] for r in self.results if r.get("crisis") and (r.get("safety") or {}).get("situation")),
                     None)
        return (first["situation"], first.get("category")) if first else (None, None)

    def record(self, result: "TurnResult") -> None:
        """Keeps a finished turn: its seeker message and reply join the dialogue the model sees, the background and
        the persona are updated; a turn that answered nothing (a notice) is kept in the export only."""
        if result.notice:
            self.results.append(result.to_dict())
            return
        if not self.turns:
            self.lang = result.lang
        self.background = background_with(self, result.message, self.lang)
        self.crisis = self.crisis or result.crisis
        if result.role_source in ("matched", "tentative", "override", "default"):
            self.role = result.role
        exp_id = result.experience["id"] if result.experience_used else None
        self.turns.append(Turn("seeker", result.message))
        self.turns.append(Turn("supporter", result.response, strategy=result.strategy, experience_id=exp_id))
        self.results.append(result.to_dict())

    def to_json(self) -> str:
        return json.dumps({"id": self.id, "lang": self.lang, "role": self.role, "crisis": self.crisis,
                           "background": asdict(self.background),
                           "turns": [asdict(t) for t in self.turns], "results": self.results},
                          ensure_ascii=False, indent=2)


@dataclass
class TurnResult:
    """Everything the pipeline decided for one turn, and the reply."""

    message: str
    lang: str
    crisis: bool = False  # this message
    crisis_mode: bool = False  # this message or an earlier one: the UI keeps the resources banner up
    safety: dict = field(default_factory=dict)
    role: str | None = None
    role_probs: dict = field(default_factory=dict)
    role_source: str = ""  # matched | tentative (on greetings alone) | kept | override | default | none
    strategy: str | None = None
    strategy_probs: dict = field(default_factory=dict)
    strategy_source: str = ""  # predicted | override | none | safety (a crisis turn's fixed reply)
    emotion: dict = field(default_factory=dict)
    experience: dict | None = None
    experience_used: bool = False  # put into the prompt (comforting strategies) or only retrieved
    gate_weights: dict | None = None
    components: dict = field(default_factory=dict)
    messages: list = field(default_factory=list)
    response: str = ""
    # The cleaned drafts when several were sampled (``SamplingSettings.candidates``): ``response`` is one of them;
    # evaluation records them so that each way of choosing can be scored on the same drafts. Not exported.
    drafts: list = field(default_factory=list, metadata={"export": False})
    # Set instead of a reply when the loaded model cannot answer in this turn's language: nothing was
    # generated (``response`` stays empty); the app and CLI show this text, evaluation skips the turn.
    notice: str | None = None
    error: str | None = None
    timings_ms: dict = field(default_factory=dict)
    # The checker's own verdict object: the crisis reply is built from it; exports carry ``safety`` (its dict).
    safety_result: Any = field(default=None, repr=False, compare=False, metadata={"export": False})

    def to_dict(self, include_prompt: bool = False) -> dict:
        """The exported fields as plain data (the prompt ``messages`` only when asked for)."""
        skipped = set() if include_prompt else {"messages"}
        return {f.name: copy.deepcopy(getattr(self, f.name)) for f in fields(self)
                if f.metadata.get("export", True) and f.name not in skipped}


# -- what each planning stage decides (the pipeline assembles them into a TurnResult) -------------
@dataclass(frozen=True)
class SafetyVerdict:
    """The safety check of one message: ``crisis`` for this message, ``crisis_mode`` counting earlier ones."""

    crisis: bool
    crisis_mode: bool
    details: dict
    checked: Any  # the checker's result object (the crisis reply is built from it)


@dataclass(frozen=True)
class RoleChoice:
    """The persona of a turn and why: matched | kept | override | default | none."""

    role: str | None
    source: str
    probs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class StrategyChoice:
    """The helping strategy of a turn and why: predicted | override | none."""

    strategy: str | None
    source: str
    probs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ExperienceHit:
    """The seeker's emotion scores and the persona's closest experience (None: not retrieved or none found)."""

    emotion: dict = field(default_factory=dict)
    experience: dict | None = None


__all__ = ["Conversation", "ExperienceHit", "RoleChoice", "SafetyVerdict", "StrategyChoice", "TurnResult"]
