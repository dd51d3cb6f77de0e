"""Whether a seeker's words say what the conversation is about. "hi", "你好，在吗" or "I need someone to talk to"
do not: role matching on them picks a persona at random, so the pipeline's background joins the seeker's messages
until one names a topic (``empath/data/small_talk.yaml``), and the persona is matched again then."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from ._data import PACKAGE_DATA, DataFileError, load_yaml
from .dialogue import Background
from .lang import detect_language

if TYPE_CHECKING:
    from .turn import Conversation

SMALL_TALK_FILE = PACKAGE_DATA / "small_talk.yaml"
_EN_WORD = re.compile(r"([a-z]+)(?:['’][a-z]+)?")  # "what's" counts as "what"
_CJK = re.compile(r"[\u3400-\u9fff]")


@lru_cache(maxsize=1)
def _lists() -> tuple[frozenset[str], int, tuple[str, ...], int]:
    data = load_yaml(SMALL_TALK_FILE) or {}
    try:
        en, zh = data["en"], data["zh"]
        words = frozenset(f"{en['function_words']} {en['words']}".lower().split())
        # longest first, so 在不在 goes before 在
        phrases = tuple(sorted(set(zh["phrases"].split()), key=len, reverse=True))
        return words, int(en["min_words"]), phrases, int(zh["min_chars"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DataFileError(f"{SMALL_TALK_FILE}: needs en.function_words, en.words, en.min_words, zh.phrases, "
                            "zh.min_chars") from exc


def names_a_topic(text: str, lang: str | None = None) -> bool:
    """Whether ``text`` carries enough of the seeker's own matter to match a persona on (not only greetings,
    thanks or asking to talk)."""
    words, min_words, phrases, min_chars = _lists()
    lang = lang if lang in ("en", "zh") else detect_language(text)
    if lang == "zh":
        rest = text
        for phrase in phrases:
            rest = rest.replace(phrase, "")
        return len(_CJK.findall(rest)) >= min_chars
    return sum(word not in words for word in _EN_WORD.findall(text.lower())) >= min_words


def topic_known(background: Background, lang: str | None) -> bool:
    """Whether the background says what the conversation is about (a description, keywords, or a question that is
    more than greetings and asking to talk)."""
    return bool(background.description or background.keywords) or names_a_topic(background.question, lang)


def _joined(background: Background, text: str, lang: str | None) -> Background:
    """``background`` as it is once it names a topic, else with the seeker's next message ``text`` joined to it."""
    if topic_known(background, lang):
        return background
    return Background(question=f"{background.question}\n{text}")


def background_with(conversation: Conversation, text: str, lang: str | None) -> Background:
    """The background this turn reads: the seeker's first message, or the seeker's messages so far while none named
    a topic ("hi", then "I lost my job"); once one did, it stays as it is."""
    if not conversation.turns:
        return Background(question=text)
    return _joined(conversation.background, text, lang)


def seeker_background(texts: list[str], lang: str | None) -> Background:
    """The background the pipeline holds after the seeker's messages ``texts``: the first one, or those up to the
    first that named a topic (for a conversation rebuilt from its turns, as the API does)."""
    background = Background(question=texts[0] if texts else "")
    for text in texts[1:]:
        background = _joined(background, text, lang)
    return background
