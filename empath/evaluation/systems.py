"""The systems an evaluation runs (Empath, its ablations, another base model, the constant reply) and the
gold-reply loss behind ``PPL``.

Gold-reply perplexity (``PPL``, local-model systems): exp of the mean token cross-entropy of the gold reply
(+ EOS, the model's own tokenizer) after the system's own prompt (``TurnResult.messages``, chat template with the
generation prompt, oldest turns dropped as in serving) with the system's own route (base weights alone when a
system runs without the adapter); summed over every evaluated turn, then divided by the token count.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from ..comparison import PROMPT_ONLY, SYSTEMS
from ..generation import SamplingSettings
from ..lang import lang_key
from ..metrics import reply_defects
from ..pipeline import Components, EmpathPipeline, InputError
from .turns import EvalTurn, EvaluationError

if TYPE_CHECKING:
    from ..group_moelora.routing import Route

CONSTANT = "constant"
HUMAN = "human"
CONSTANT_REPLIES = {
    "en": "I understand how you feel. Can you tell me more about it?",
    "zh": "我能理解你的感受。可以再多和我说说吗？",
}
# Command-line system names -> pipeline components (the paper's ablations, Section 6.5).
SYSTEM_COMPONENTS: dict[str, Components] = {
    "empath": SYSTEMS["Empath"],
    "base": SYSTEMS["Base model"],
    "no-role": SYSTEMS["Empath w/o role matching"],
    "no-strategy": SYSTEMS["Empath w/o strategy prediction"],
    "no-rag": SYSTEMS["Empath w/o experience RAG"],
    "prompt-only": SYSTEMS[PROMPT_ONLY],
}
SYSTEM_LABELS = {"empath": "Empath", "base": "Base model", "no-role": "w/o role matching",
                 "no-strategy": "w/o strategy prediction", "no-rag": "w/o experience RAG",
                 "prompt-only": "w/o adapter (prompt-only)", CONSTANT: "Constant reply", HUMAN: "Human (gold)"}


@dataclass
class System:
    """A named system: a pipeline with components, or the constant reply (``pipeline`` None)."""

    name: str
    pipeline: EmpathPipeline | None = None
    components: Components = field(default_factory=Components)

    @property
    def label(self) -> str:
        """The name shown in tables and plots."""
        return SYSTEM_LABELS.get(self.name, self.name)

    def answer(self, turn: EvalTurn, settings: SamplingSettings, with_ppl: bool = True) -> dict:
        """This system's reply to ``turn`` with role, strategy, defects and (local models) the gold-reply loss."""
        if self.pipeline is None:
            reply = CONSTANT_REPLIES[lang_key(turn.lang)]
            return {"reply": reply, "role": None, "strategy": None, "defects": reply_defects(reply, turn.lang)}
        try:
            result = self.pipeline.respond(turn.conversation(), turn.message, components=self.components,
                                           settings=settings, record=False)
        except InputError as exc:
            return {"reply": "", "role": None, "strategy": None, "defects": [], "error": str(exc)}
        row = {"reply": result.response, "role": result.role, "strategy": result.strategy,
               "experience": (result.experience or {}).get("id") if result.experience_used else None,
               "crisis": result.crisis, "defects": reply_defects(result.response, result.lang)}
        if result.drafts:  # several drafts were sampled: each way of choosing can be scored on them
            row["drafts"] = result.drafts
        if result.error:
            row["error"] = result.error
        if getattr(result, "notice", None):  # the model cannot write this language: nothing was generated
            row["notice"] = result.notice
        if with_ppl and result.messages:
            # the pipeline's own routing rule (None: base weights alone)
            route = self.pipeline.route_for(result, self.components)
            row["nll"], row["tokens"] = gold_reply_loss(self.pipeline.generator, result.messages, turn.gold, route)
        return row


def resolve_systems(pipeline: EmpathPipeline, names: Sequence[str]) -> list[System]:
    """Systems for checked names; a model ref runs full Empath prompting on that base model, no adapter."""
    systems = []
    for name in names:
        if name == CONSTANT:
            systems.append(System(name))
        elif name in SYSTEM_COMPONENTS:
            systems.append(System(name, pipeline, SYSTEM_COMPONENTS[name]))
        else:
            systems.append(System(name, pipeline.with_base_model(name), Components()))
    return systems


def check_system_names(names: Sequence[str]) -> list[str]:
    """Stripped, de-duplicated names; refuses 'human' and names neither built in nor a model ref (Hub id, folder)."""
    import difflib

    from ..hub import DEFAULT_BASE_MODEL

    out, known = [], [*SYSTEM_COMPONENTS, CONSTANT]
    for name in (n.strip() for n in names):
        if not name or name in out:
            continue
        if name == HUMAN:
            raise EvaluationError("'human' is always reported (the gold replies); it is not a system to run")
        looks_like_ref = "/" in name or Path(name).is_dir() or name == DEFAULT_BASE_MODEL
        if name not in known and not looks_like_ref:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise EvaluationError(f"unknown system {name!r}{hint}; valid: {', '.join(known)} or a model ref "
                                  "(Hub id or local folder)")
        out.append(name)
    if not out:
        raise EvaluationError("no systems given")
    return out


def reply_loss(model, prompt_ids: Sequence[int], reply_ids: Sequence[int],
               route: Route | dict | None = None) -> tuple[float, int]:
    """Summed cross-entropy (nats) of ``reply_ids`` after ``prompt_ids``, and their count; route None = base weights."""
    # a route goes through ``model.route(**route)``; without one an adapter model runs inside ``disable_adapter()``
    import torch

    from ..group_moelora.routing import route_kwargs

    route = route_kwargs(route)

    device = next(model.parameters()).device
    ids = torch.tensor([list(prompt_ids) + list(reply_ids)], device=device)
    labels = torch.tensor([[-100] * len(prompt_ids) + list(reply_ids)], device=device)
    if route is not None:
        context = model.route(**route)
    else:
        context = model.disable_adapter() if hasattr(model, "disable_adapter") else nullcontext()
    with context, torch.inference_mode():
        logits = model(input_ids=ids).logits
    shift_logits, shift_labels = logits[0, :-1].float(), labels[0, 1:]
    loss = torch.nn.functional.cross_entropy(shift_logits, shift_labels, ignore_index=-100, reduction="sum")
    return float(loss), int((shift_labels != -100).sum())


def gold_reply_loss(generator, messages: list[dict], gold: str, route: Route | dict | None) -> tuple[float, int]:
    """:func:`reply_loss` of ``gold`` (+ EOS) after ``messages`` encoded as the generator serves them."""
    tokenizer = generator.tokenizer
    prompt_ids = generator.encode(messages)["input_ids"][0].tolist()
    reply_ids = tokenizer(gold.strip() + (tokenizer.eos_token or ""), add_special_tokens=False)["input_ids"]
    routed = getattr(generator, "routed", None)  # the generator's lock and merged route (single-route fast path)
    with routed(route) if routed else nullcontext():
        return reply_loss(generator.model, prompt_ids, reply_ids, route)
