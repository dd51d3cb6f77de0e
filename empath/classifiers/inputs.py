"""The classifiers' input text: the paper's Eq. 9 (background) and Eq. 10 (background + context)."""

from __future__ import annotations

from typing import Iterable, Sequence

from ..dialogue import SEEKER, SUPPORTER, Background, Turn, format_turns
from ..lang import detect_language
from ..strategies import normalize_strategy
from .base import ClassifierInputError


def _keyword_list(keywords: Iterable[str] | str | None) -> list[str]:
    if keywords is None:
        return []
    if isinstance(keywords, str):
        keywords = [keywords]
    return [k.strip() for k in keywords if isinstance(k, str) and k.strip()]


def format_role_input(question: str = "", description: str = "", keywords: Iterable[str] | str = ()) -> str:
    """``[Ques]Q;[Desc]D;[Keys]K`` (Eq. 9); keywords are joined with commas."""
    keys = ",".join(_keyword_list(keywords))
    return f"[Ques]{(question or '').strip()};[Desc]{(description or '').strip()};[Keys]{keys}"


def format_strategy_input(question: str = "", description: str = "", keywords: Iterable[str] | str = (),
                          context_turns: Sequence[Turn] = (), lang: str = "en",
                          max_turns: int | None = None) -> str:
    """``[Ques]Q;[Desc]D;[Keys]K;[Cont]C`` (Eq. 10); C is the speaker-tagged context (latest ``max_turns``)."""
    return f"{format_role_input(question, description, keywords)};{format_context(context_turns, lang, max_turns)}"


def format_context(context_turns: Sequence[Turn], lang: str = "en", max_turns: int | None = None) -> str:
    """The ``[Cont]C`` part of Eq. 10: the latest ``max_turns`` turns, speaker- and strategy-tagged."""
    turns = list(context_turns)[-max_turns:] if max_turns else list(context_turns)
    return f"[Cont]{format_turns(turns, lang)}"


def _background(background: Background | dict | None) -> Background:
    if background is None:
        return Background()
    if isinstance(background, dict):
        return Background(**background)
    return background


def _turns(context_turns: Iterable[Turn | dict] | None) -> list[Turn]:
    """Validated turns with canonical strategy names (unknown strategies raise with the valid list)."""
    out = []
    for i, t in enumerate(context_turns or ()):
        if isinstance(t, dict):
            t = Turn(**t)
        if t.speaker not in (SEEKER, SUPPORTER):
            raise ClassifierInputError(f"context turn {i}: speaker must be 'seeker' or 'supporter', got {t.speaker!r}")
        strategy = normalize_strategy(t.strategy) if t.strategy else None
        out.append(Turn(t.speaker, (t.text or "").strip(), strategy))
    return out


def role_text(background: Background, use_keywords: bool = True) -> str:
    """The text a role head reads; empty when the background says nothing."""
    bg = _background(background)
    keys = bg.keywords if use_keywords else ()
    if not ((bg.question or "").strip() or (bg.description or "").strip() or _keyword_list(keys)):
        return ""
    return format_role_input(bg.question, bg.description, keys)


def background_lang(background: Background, turns: Sequence[Turn] = ()) -> str:
    bg = _background(background)
    text = " ".join([bg.question or "", bg.description or "", *_keyword_list(bg.keywords)] + [t.text for t in turns[-4:]])
    return detect_language(text)


def strategy_pair(background: Background, turns: Sequence[Turn], max_turns: int | None = 12) -> tuple[str, str]:
    """The fine-tuned strategy input: (Eq. 9 background, ``[Cont]`` context of the latest ``max_turns`` turns)."""
    return role_text(background), format_context(turns, background_lang(background, turns), max_turns)
