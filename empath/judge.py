"""The LLM judge (paper, Table 7 / Figure 17): six criteria scored by an OpenAI-compatible chat model, and
pairwise preferences between two replies."""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Iterable, Sequence

from ._data import PACKAGE_DATA, DataFileError, load_yaml
from .roles import RoleBank, load_roles


JUDGE_PROMPT_FILE = PACKAGE_DATA / "prompts" / "llm_judge.yaml"
JUDGE_ENV = ("EMPATH_JUDGE_BASE_URL", "EMPATH_JUDGE_API_KEY", "EMPATH_JUDGE_MODEL")


class JudgeError(RuntimeError):
    """The judge could not produce a valid score after all attempts (the message says why)."""


@dataclass(frozen=True)
class Criterion:
    key: str
    name: str
    abbreviation: str
    max_points: float
    description: str
    checks: tuple[tuple[str, float], ...]


@dataclass
class Judgement:
    scores: dict[str, float]  # criterion key -> points
    analysis: str = ""
    raw: str = ""
    attempts: int = 1

    def as_row(self) -> dict[str, float]:
        """Scores keyed by the paper's column abbreviations (Flu., RoA., ...)."""
        by_key = {c.key: c for c in judge_criteria()}
        return {by_key[k].abbreviation: v for k, v in self.scores.items()}


@dataclass(frozen=True)
class JudgePrompt:
    system: str
    user: str
    role_block: str
    no_role_block: str
    criteria: tuple[Criterion, ...] = field(default_factory=tuple)
    pairwise_system: str = ""
    pairwise_user: str = ""


@lru_cache(maxsize=4)
def load_judge_prompt(path: str | None = None) -> JudgePrompt:
    path = path or str(JUDGE_PROMPT_FILE)
    data = load_yaml(path) or {}
    try:
        criteria = tuple(
            Criterion(
                key=c["key"],
                name=c["name"],
                abbreviation=c["abbreviation"],
                max_points=float(c["max_points"]),
                description=c["description"].strip(),
                checks=tuple((chk["question"].strip(), float(chk["points"])) for chk in c["checks"]),
            )
            for c in data["criteria"]
        )
        prompt = JudgePrompt(data["system"], data["user"], data["role_block"], data["no_role_block"], criteria,
                             data.get("pairwise_system", ""), data.get("pairwise_user", ""))
    except (KeyError, TypeError) as exc:
        raise DataFileError(f"{path}: judge prompt lacks {exc}") from None
    for c in criteria:
        if abs(sum(p for _, p in c.checks) - c.max_points) > 1e-9:
            raise DataFileError(f"{path}: criterion {c.key!r}: check points do not add up to {c.max_points}")
    return prompt


def judge_criteria() -> tuple[Criterion, ...]:
    """The six criteria with their maximum points (3/5/5/5/3/1, Table 7)."""
    return load_judge_prompt().criteria


def _criteria_text(criteria: Iterable[Criterion]) -> str:
    lines = []
    for i, c in enumerate(criteria, start=1):
        lines.append(f"{i}. {c.name} (`{c.key}`, 0-{c.max_points:g} points): {c.description}")
        for j, (question, points) in enumerate(c.checks, start=1):
            lines.append(f"   {i}.{j} (0-{points:g}) {question}")
    return "\n".join(lines)


def build_judge_messages(dialogue_text: str, role: str | None = None, lang: str = "en",
                         roles: RoleBank | None = None) -> list[dict[str, str]]:
    """Chat messages asking the judge to score ``dialogue_text`` (optionally as played by ``role``, looked up
    in ``roles``; None: the shipped role bank)."""
    prompt = load_judge_prompt()
    if role:
        try:
            persona = (roles if roles is not None else load_roles()).resolve(role)
        except KeyError:  # a character outside the bank: the judge gets its name only
            persona = None
        role_block = prompt.role_block.format(
            role=persona.name(lang) if persona else role,
            profile=persona.profile_text(lang) if persona else "",
            style=persona.style_description(lang) if persona else "",
        )
    else:
        role_block = prompt.no_role_block
    # a template rather than numbers, so the judge is not anchored on example scores
    slots = [f'"{c.key}": <0-{c.max_points:g}>' for c in prompt.criteria] + ['"analysis": "<one or two sentences>"']
    example = "{" + ", ".join(slots) + "}"
    system = prompt.system.format(role_block=role_block.strip())
    user = prompt.user.format(criteria=_criteria_text(prompt.criteria), example=example, dialogue=dialogue_text.strip())
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


def _normalise_key(key: str) -> str:
    return re.sub(r"[^a-z]", "", key.lower())


def parse_judgement(text: str) -> Judgement:
    """Scores from a judge reply: the first JSON object in it (code fences allowed).

    Keys may be criterion keys, names or abbreviations in any case ("role_alignment", "Role Alignment",
    "RoA."); values must be numbers (or numeric strings) within 0..max_points. Raises ValueError naming
    what is missing or out of range.
    """
    obj, aliases = _reply_object(text), _criterion_aliases()
    scores, problems, bad_keys = {}, [], set()
    for key, value in obj.items():
        c = aliases.get(_normalise_key(str(key)))
        if c is None:
            continue
        if isinstance(value, dict):  # {"score": 3, "reason": ...}
            value = value.get("score", value.get("points"))
        try:
            number = float(value)
        except (TypeError, ValueError):
            problems.append(f"{c.key}={value!r} is not a number")
            bad_keys.add(c.key)
            continue
        if not 0 <= number <= c.max_points:
            problems.append(f"{c.key}={number:g} outside 0..{c.max_points:g}")
            bad_keys.add(c.key)
            continue
        scores[c.key] = number
    missing = [c.key for c in judge_criteria() if c.key not in scores and c.key not in bad_keys]
    if missing:
        problems.append(f"missing {', '.join(missing)}")
    if problems:
        raise ValueError("; ".join(problems))
    analysis = obj.get("analysis") or obj.get("reason") or obj.get("analyses") or ""
    ordered = {c.key: scores[c.key] for c in judge_criteria()}
    return Judgement(ordered, str(analysis), text)


def _reply_object(text: str) -> dict:
    """The first JSON object in a judge reply (code fences searched first); ValueError if there is none."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("empty reply")
    for candidate in [m.group(1) for m in _FENCE.finditer(text)] + [text]:
        obj = _first_json_object(candidate)
        if obj is not None:
            return obj
    raise ValueError("no JSON object in the reply")


def _criterion_aliases() -> dict[str, Criterion]:
    return {_normalise_key(alias): c for c in judge_criteria() for alias in (c.key, c.name, c.abbreviation)}


def _first_json_object(text: str) -> dict | None:
    decoder = json.JSONDecoder()
    for m in re.finditer(r"\{", text):
        try:
            obj, _ = decoder.raw_decode(text, m.start())
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            return obj
    return None


def judge_client_from_env() -> tuple[Any, str]:
    """An ``openai.OpenAI`` client and model from ``EMPATH_JUDGE_*``, else ``EMPATH_LLM_*``; JudgeError if unset."""
    def env(name: str) -> str | None:
        return os.environ.get(f"EMPATH_JUDGE_{name}") or os.environ.get(f"EMPATH_LLM_{name}") or None

    model = env("MODEL")
    if not model:
        raise JudgeError(
            "no judge model configured: set EMPATH_JUDGE_MODEL (and EMPATH_JUDGE_BASE_URL / "
            "EMPATH_JUDGE_API_KEY for any OpenAI-compatible endpoint; EMPATH_LLM_* are used when those are unset)"
        )
    import openai

    # local servers accept any key
    client = openai.OpenAI(base_url=env("BASE_URL"), api_key=env("API_KEY") or "EMPTY")
    return client, model


def _transient_errors() -> tuple[type[BaseException], ...]:
    try:
        import openai

        return (openai.OpenAIError, OSError, TimeoutError)
    except ImportError:  # pragma: no cover - openai is a dependency
        return (OSError, TimeoutError)


def judge_dialogue(
    dialogue: Any,
    role: str | None = None,
    *,
    client: Any = None,
    model: str | None = None,
    lang: str | None = None,
    max_attempts: int = 3,
    backoff_s: float = 2.0,
    temperature: float = 0.0,
    roles: RoleBank | None = None,
) -> Judgement:
    """Score one dialogue on the six Table 7 criteria with an OpenAI-compatible chat model.

    ``dialogue`` is a :class:`empath.dialogue.Dialogue` (rendered with its strategy tags removed, and its
    background role used when ``role`` is not given) or already-formatted text. ``client`` is anything with
    ``client.chat.completions.create(model=..., messages=..., temperature=...)``; by default one is built from
    ``EMPATH_JUDGE_*``. Unparseable or partial replies and transient API errors are retried (exponential
    backoff); after ``max_attempts`` a :class:`JudgeError` carries the last reason and reply.
    """
    if hasattr(dialogue, "turns"):
        text = dialogue.to_text(lang=lang, with_strategy=False)
        role = role or dialogue.background.role
        lang = lang or dialogue.lang
    else:
        text = str(dialogue)
    if client is None:
        client, env_model = judge_client_from_env()
        model = model or env_model
    if not model:
        model = os.environ.get("EMPATH_JUDGE_MODEL")
        if not model:
            raise JudgeError("no judge model given: pass model= or set EMPATH_JUDGE_MODEL")
    messages = build_judge_messages(text, role, lang or "en", roles)
    judgement, attempts = ask_judge(client, model, messages, parse_judgement, max_attempts=max_attempts,
                                    backoff_s=backoff_s, temperature=temperature)
    judgement.attempts = attempts
    return judgement


def ask_judge(client: Any, model: str, messages: list[dict], parse: Callable[[str], Any], *, max_attempts: int = 3,
              backoff_s: float = 2.0, temperature: float = 0.0) -> tuple[Any, int]:
    """``(parse(reply), attempts)``, retrying unusable replies and transient API errors; JudgeError after the last."""
    last_reason, last_reply = "", ""
    for attempt in range(1, max_attempts + 1):
        try:
            response = client.chat.completions.create(model=model, messages=messages, temperature=temperature)
            last_reply = response.choices[0].message.content or ""
            return parse(last_reply), attempt
        except ValueError as exc:
            last_reason = f"unusable reply ({exc})"
        except _transient_errors() as exc:
            last_reason = f"API error ({type(exc).__name__}: {exc})"
        if attempt < max_attempts and backoff_s > 0:
            time.sleep(backoff_s * 2 ** (attempt - 1))
    snippet = last_reply.strip().replace("\n", " ")[:300]
    message = f"judge failed after {max_attempts} attempts: {last_reason}"
    raise JudgeError(message + (f"; last reply: {snippet!r}" if snippet else ""))


# -- pairwise judging of single replies ---------------------------------------------------------
PREFERENCES = ("A", "B", "tie")
_PREFERENCE_ALIASES = {"a": "A", "replya": "A", "b": "B", "replyb": "B", "tie": "tie", "equal": "tie", "same": "tie",
                       "draw": "tie", "none": "tie", "neither": "tie", "both": "tie"}


@dataclass
class PairwiseJudgement:
    scores: dict[str, float]  # criterion key -> share won by the first reply over both orders (1 win, 0.5 tie)
    verdicts: list[dict[str, str]]  # per order: criterion key -> "A" | "B" | "tie" as the judge answered
    consistent: float  # share of criteria on which both orders agree once the swap is undone
    attempts: int = 2


def build_pairwise_messages(context: str, reply_a: str, reply_b: str) -> list[dict[str, str]]:
    """Chat messages asking the judge which of two replies to ``context`` is better on each Table 7 criterion."""
    prompt = load_judge_prompt()
    if not prompt.pairwise_user:
        raise DataFileError(f"{JUDGE_PROMPT_FILE}: no pairwise_user prompt")
    example = "{" + ", ".join(f'"{c.key}": "A|B|tie"' for c in prompt.criteria) + "}"
    user = prompt.pairwise_user.format(criteria=_criteria_text(prompt.criteria), example=example,
                                       context=context.strip(), reply_a=reply_a.strip(), reply_b=reply_b.strip())
    return [{"role": "system", "content": prompt.pairwise_system.strip()}, {"role": "user", "content": user}]


def parse_preferences(text: str) -> dict[str, str]:
    """``{criterion key: "A" | "B" | "tie"}`` from a pairwise judge reply; ValueError naming what is unusable."""
    obj, aliases = _reply_object(text), _criterion_aliases()
    verdicts, problems = {}, []
    for key, value in obj.items():
        c = aliases.get(_normalise_key(str(key)))
        if c is None:
            continue
        verdict = _PREFERENCE_ALIASES.get(_normalise_key(str(value)))
        if verdict is None:
            problems.append(f"{c.key}={value!r} is not A, B or tie")
        else:
            verdicts[c.key] = verdict
    missing = [c.key for c in judge_criteria() if c.key not in verdicts and not any(p.startswith(c.key + "=")
                                                                                     for p in problems)]
    if missing:
        problems.append(f"missing {', '.join(missing)}")
    if problems:
        raise ValueError("; ".join(problems))
    return {c.key: verdicts[c.key] for c in judge_criteria()}


def judge_pair(context: str, reply: str, other: str, *, client: Any = None, model: str | None = None,
               max_attempts: int = 3, backoff_s: float = 2.0, temperature: float = 0.0) -> PairwiseJudgement:
    """Judge ``reply`` against ``other`` in both orders (A/B, then B/A); scores are ``reply``'s share won."""
    if client is None:
        client, env_model = judge_client_from_env()
        model = model or env_model
    if not model:
        raise JudgeError("no judge model given: pass model= or set EMPATH_JUDGE_MODEL")
    kwargs = dict(max_attempts=max_attempts, backoff_s=backoff_s, temperature=temperature)
    first, n1 = ask_judge(client, model, build_pairwise_messages(context, reply, other), parse_preferences, **kwargs)
    second, n2 = ask_judge(client, model, build_pairwise_messages(context, other, reply), parse_preferences, **kwargs)
    points = {"A": 1.0, "tie": 0.5, "B": 0.0}
    swapped = {"A": "B", "B": "A", "tie": "tie"}
    keys = [c.key for c in judge_criteria()]
    scores = {k: (points[first[k]] + points[swapped[second[k]]]) / 2 for k in keys}
    consistent = sum(first[k] == swapped[second[k]] for k in keys) / len(keys)
    return PairwiseJudgement(scores, [first, second], consistent, n1 + n2)


def summarize_judgements(judgements: Sequence[Judgement]) -> dict[str, float]:
    """Mean score per criterion, keyed by the paper's abbreviations (the LLM half of a Table 3 row)."""
    if not judgements:
        raise ValueError("no judgements to summarise")
    return {c.abbreviation: sum(j.scores[c.key] for j in judgements) / len(judgements) for c in judge_criteria()}
