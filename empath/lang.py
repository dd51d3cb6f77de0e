"""The two languages Empath speaks: detecting which one a text is in, and picking the text for one."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypeVar

LANGUAGES = ("en", "zh")
T = TypeVar("T")

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef]")
_ENGLISH_WORD = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)?")
MIN_ENGLISH_WORDS = 3  # fewer English words ("ok", "I'm done") do not show that a seeker switched to English


def detect_language(text: str, threshold: float = 0.3) -> str:
    """``"zh"`` when at least ``threshold`` of the letters are CJK ideographs, else ``"en"``."""
    cjk = len(_CJK.findall(text))
    letters = cjk + sum(1 for ch in text if ch.isascii() and ch.isalpha())
    return "zh" if letters and cjk / letters >= threshold else "en"


def clearly_written_in(text: str) -> str | None:
    """``"zh"`` when at least half of the letters are CJK ideographs, ``"en"`` from ``MIN_ENGLISH_WORDS`` English words on
    with no ideograph, else None: a short ("ok") or mixed ("我要自杀 tonight lol") message says nothing of a switch."""
    if detect_language(text, threshold=0.5) == "zh":
        return "zh"
    english = not _CJK.search(text) and len(_ENGLISH_WORD.findall(text)) >= MIN_ENGLISH_WORDS
    return "en" if english else None


def resolve_language(lang: str | None, text: str) -> str:
    """``lang`` when it is one Empath speaks, else the language detected in ``text``."""
    return lang if lang in LANGUAGES else detect_language(text)


def by_lang(lang: str | None, *, en: T, zh: T) -> T:
    """The Chinese value for ``lang == "zh"``, the English one for anything else (English is the fallback)."""
    return zh if lang == "zh" else en


def lang_key(lang: str | None) -> str:
    """``"zh"`` or ``"en"``: the key of a per-language table for ``lang`` (English for anything unknown)."""
    return by_lang(lang, en="en", zh="zh")


@dataclass(frozen=True)
class BilingualLabel:
    """An id with a name and a description in both languages (a PsyQA topic, a counselling stage)."""

    id: str
    name_en: str
    name_zh: str
    description_en: str = ""
    description_zh: str = ""

    def name(self, lang: str = "en") -> str:
        """The name in ``lang`` (English for anything but Chinese)."""
        return by_lang(lang, en=self.name_en, zh=self.name_zh)

    def description(self, lang: str = "en") -> str:
        """The description in ``lang`` (English for anything but Chinese)."""
        return by_lang(lang, en=self.description_en, zh=self.description_zh)
