"""Builds the chat messages for one supporter reply from data-file templates.

The system message carries the persona (profile + speaking style), the helping strategy with its
definition, and, for comforting turns, the persona's retrieved experience; the dialogue so far follows
as chat turns. Templates live in ``empath/data/prompts/counselling.yaml``.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from functools import lru_cache

from ._data import PACKAGE_DATA, DataFileError, load_yaml
from .lang import by_lang, lang_key
from .roles import Role
from .strategies import get_strategy

PROMPTS_FILE = PACKAGE_DATA / "prompts" / "counselling.yaml"
_SECTIONS = ("persona", "strategy", "experience", "rules", "plain", "safety_followup", "safety_reply_stand_in")
PROMPT_STYLES = ("full", "compact")


@lru_cache(maxsize=1)
def templates() -> dict:
    data = load_yaml(PROMPTS_FILE)
    for where, block in (("", data), ("compact.", data.get("compact") or {})):
        for lang in ("en", "zh"):
            missing = [s for s in _SECTIONS if s not in (block.get(lang) or {})]
            if missing:
                raise DataFileError(f"{PROMPTS_FILE}: {where}{lang} lacks {', '.join(missing)}")
    return data


def _style_templates(style: str) -> dict:
    if style not in PROMPT_STYLES:
        raise ValueError(f"unknown prompt style {style!r}; choose one of {', '.join(PROMPT_STYLES)}")
    return templates() if style == "full" else templates()["compact"]


def experience_strategies() -> set[str]:
    return set(templates().get("experience_strategies", []))


def wants_experience(strategy: str | None) -> bool:
    """Experiences go into comforting turns; with no strategy (ablation) the experience is offered."""
    return strategy is None or strategy in experience_strategies()


@dataclass
class PromptParts:
    role: Role | None
    strategy: str | None
    experience_text: str | None
    lang: str = "en"
    safety_followup: bool = False  # an earlier turn of this conversation was a crisis
    style: str = "full"  # "compact": a short system message and only the last turns (small base models)


def system_prompt(parts: PromptParts) -> str:
    t = _style_templates(parts.style)[lang_key(parts.lang)]
    followup = [t["safety_followup"]] if parts.safety_followup else []
    if parts.role is None:
        return "\n\n".join([t["plain"], *followup])
    lang = lang_key(parts.lang)
    role = parts.role
    quote = by_lang(lang, en='"{}"', zh="「{}」")
    if parts.style == "compact":
        return _compact_prompt(t, parts, followup)
    blocks = [t["persona"].format(
        name=role.name(lang), source=role.source(lang), profile=role.profile_text(lang),
        style=role.style_description(lang),
        examples=" ".join(quote.format(e) for e in role.style_examples(lang)),
    )]
    if parts.strategy:
        s = get_strategy(parts.strategy)
        blocks.append(t["strategy"].format(strategy=s.display_name(lang), definition=s.definition(lang)))
    if parts.experience_text:
        blocks.append(t["experience"].format(experience=parts.experience_text))
    blocks.append(t["rules"].format(name=role.name(lang)))
    return "\n\n".join(blocks + followup)


def _compact_prompt(t: dict, parts: PromptParts, followup: list[str]) -> str:
    lang = lang_key(parts.lang)
    role = parts.role
    lines = [t["persona"].format(name=role.name(lang), source=role.source(lang))]
    if parts.strategy:
        lines.append(t["strategy"].format(strategy=get_strategy(parts.strategy).display_name(lang)))
    if parts.experience_text:
        lines.append(t["experience"].format(experience=short_experience(parts.experience_text)))
    lines.append(t["rules"].format(name=role.name(lang)))
    return "\n".join(lines + followup)


_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s*")


def short_experience(text: str) -> str:
    """An experience cut to its first and last sentence: the event and what the persona took from it."""
    sentences = [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]
    if len(sentences) <= 2:
        return " ".join(sentences)
    joiner = "" if re.search(r"[\u4e00-\u9fff]", text) else " "
    return joiner.join([sentences[0], sentences[-1]])


def history_window(style: str) -> int | None:
    """How many of the latest dialogue turns a prompt style keeps (None: all that fit the context)."""
    return int(templates()["compact"]["max_turns"]) if style == "compact" else None


def persona_free_messages(messages: list[dict], lang: str = "en", style: str = "full") -> list[dict]:
    """The same turn with the plain listener's system message (no persona, skill or memory): what persona
    guidance steers away from."""
    plain = {"role": "system", "content": system_prompt(PromptParts(None, None, None, lang=lang, style=style))}
    return [plain, *(m for m in messages if m["role"] != "system")]


def build_messages(parts: PromptParts, history: list[tuple[str, str]], safety_replies: Collection[str] = ()
                   ) -> list[dict]:
    """Chat-template messages: the system prompt, then (speaker, text) turns mapped to user/assistant; a supporter
    turn that is one of ``safety_replies`` (the fixed crisis texts) is shown as one short line instead, since a small
    model copies a long fixed text's phrases into its own later replies."""
    window = history_window(parts.style)
    if window:
        history = list(history)[-window:]
    messages = [{"role": "system", "content": system_prompt(parts)}]
    for speaker, text in history:
        chat_role = "user" if speaker == "seeker" else "assistant"
        if chat_role == "assistant" and text in safety_replies:
            text = _style_templates(parts.style)[lang_key(parts.lang)]["safety_reply_stand_in"].strip()
        if messages[-1]["role"] == chat_role:  # consecutive turns of one speaker merge: templates expect alternation
            messages[-1]["content"] += "\n" + text
        else:
            messages.append({"role": chat_role, "content": text})
    return messages
