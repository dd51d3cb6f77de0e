"""Which languages the loaded base model can answer in, and the notice a seeker gets when it cannot.

The table and the notice texts live in ``empath/data/model_languages.yaml`` (its header explains the lookup
order and why an unknown model is assumed to answer in any language). ``None`` below always means "no
restriction known".
"""

from __future__ import annotations

import os
import re
from functools import lru_cache

from ._data import PACKAGE_DATA, DataFileError, load_yaml
from .lang import by_lang

LANGUAGES_FILE = PACKAGE_DATA / "model_languages.yaml"
ANY = "any"
_CODE = re.compile(r"^[a-z]{2,3}$")


@lru_cache(maxsize=1)
def table() -> dict:
    data = load_yaml(LANGUAGES_FILE) or {}
    for lang in ("en", "zh"):
        notice = (data.get("notice") or {}).get(lang) or {}
        if not notice.get("text") or not notice.get("keep_writing") or lang not in (data.get("names") or {}):
            raise DataFileError(f"{LANGUAGES_FILE}: the {lang!r} notice (text, keep_writing) or names are missing")
    for i, row in enumerate(data.get("models") or []):
        if not isinstance(row, dict) or not row.get("prefix") or not row.get("languages"):
            raise DataFileError(f"{LANGUAGES_FILE}: models[{i}] needs a prefix and a list of languages")
        parse_languages(row["languages"], where=f"{LANGUAGES_FILE}: models[{i}]")
    return data


def parse_languages(value, where: str = "EMPATH_MODEL_LANGUAGES") -> tuple[str, ...] | None:
    """``"en,zh"`` / ``["en", "zh"]`` -> ``("en", "zh")``; empty -> None (not declared); ``"any"`` -> ``("any",)``."""
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else list(value)
    codes = tuple(dict.fromkeys(str(x).strip().lower() for x in items if str(x).strip()))
    if not codes:
        return None
    bad = [c for c in codes if c != ANY and not _CODE.match(c)]
    if bad:
        raise ValueError(f"{where}: {', '.join(bad)} is not a language code; use e.g. en,zh (or any)")
    return codes


def languages_for(base_model: str | os.PathLike | None, declared=None) -> tuple[str, ...] | None:
    """The languages ``base_model`` answers in: ``declared`` (config / env) wins, then the table; None = any."""
    codes = parse_languages(declared)
    if codes is None:
        codes = _lookup(base_model)
    return None if codes is None or ANY in codes else codes


def _lookup(base_model) -> tuple[str, ...] | None:
    from .hub import DEFAULT_BASE_MODEL

    raw = str(base_model or os.environ.get("EMPATH_BASE_MODEL") or DEFAULT_BASE_MODEL).strip()
    name = raw.partition("@")[0] if not os.path.exists(raw) else raw
    if name.lower().startswith("openai:"):  # a model behind an OpenAI-compatible server (empath.remote)
        name = name[len("openai:"):]
    candidates = {name.lower(), os.path.basename(os.path.normpath(name)).lower()}
    best = None
    for row in table().get("models") or []:
        prefix = str(row["prefix"]).lower()
        if any(c.startswith(prefix) for c in candidates) and (best is None or len(prefix) > len(best["prefix"])):
            best = row
    if best is not None:
        return parse_languages(best["languages"])
    return parse_languages(table().get("unknown", ANY))


def can_answer(languages: tuple[str, ...] | None, lang: str) -> bool:
    return languages is None or lang in languages


def model_display_name(base_model) -> str:
    from .hub import DEFAULT_BASE_MODEL, DEFAULT_HUB_MODEL

    base_model = base_model or os.environ.get("EMPATH_BASE_MODEL")
    if base_model is None or str(base_model).strip() in ("", DEFAULT_BASE_MODEL):
        return DEFAULT_HUB_MODEL.split("/")[-1]  # SmolLM2-135M-Instruct, packaged or from the Hub
    return str(base_model)


def language_name(code: str, in_lang: str) -> str:
    return (table()["names"].get(in_lang) or {}).get(code, code)


def _join(names: list[str], in_lang: str) -> str:
    if in_lang == "zh":
        return "、".join(names[:-1]) + ("和" if len(names) > 1 else "") + names[-1]
    return ", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + names[-1]


def language_notice(requested: str, seeker_lang: str, base_model, supported: tuple[str, ...]) -> str:
    """The plain notice shown instead of a reply: written in the seeker's language (``en`` when it has no
    notice text), naming the loaded model, the languages it speaks and the one setting that switches models."""
    data = table()
    in_lang = seeker_lang if seeker_lang in data["notice"] else "en"
    texts = data["notice"][in_lang]
    fields = {"requested": language_name(requested, in_lang), "model": model_display_name(base_model),
              "supported": _join([language_name(c, in_lang) for c in supported], in_lang),
              "suggested": data.get("suggested_model", "Qwen/Qwen2.5-1.5B-Instruct"),
              "seeker": language_name(seeker_lang, in_lang), "seeker_code": seeker_lang}
    text = texts["text"].format(**fields)
    if seeker_lang != requested and seeker_lang in supported:
        text += by_lang(in_lang, en=" ", zh="") + texts["keep_writing"].format(**fields)
    return text


__all__ = ["ANY", "LANGUAGES_FILE", "can_answer", "language_notice", "languages_for", "model_display_name",
           "parse_languages"]
