"""The fixed, reviewed crisis replies and the resources banner, assembled from ``empath/data/safety.yaml``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .lang import LANGUAGES, by_lang, lang_key
from .safety_rules import CATEGORIES, RuleFileReader

if TYPE_CHECKING:
    from .safety import SafetyResult


@dataclass
class Situation:
    """One entry of ``replies.situations``: when its reply fits, and its texts per language."""

    categories: frozenset[str] | None  # the flagged categories it may answer (None: any)
    first_reply_only: bool  # only a conversation's first crisis reply may start it
    texts: dict[str, tuple[re.Pattern, re.Pattern, str]] = field(default_factory=dict)  # lang -> report, self, reply
    followups: dict[str, list[str]] = field(default_factory=dict)  # lang -> texts for the later crisis turns
    ongoing: dict[str, re.Pattern] = field(default_factory=dict)  # lang -> "the danger still holds" (optional)
    reported_by: tuple[str, ...] = ()  # rule-id prefixes or pattern groups whose hits, alone, are the report (optional)
    advice: dict[str, list[Advice]] = field(default_factory=dict)  # lang -> texts for the reply's {advice} (optional)


@dataclass
class Advice:
    """One piece of a situation's ``{advice}``: given when ``when`` matches the message; when none matches (or the
    message is unknown), every ``fallback`` piece is given."""

    when: re.Pattern
    text: str
    fallback: bool = False


class ReplyTexts:
    """Crisis replies and the resources banner, assembled from the YAML texts."""

    def __init__(self, config: dict, reader: RuleFileReader):
        self.emergency = config.get("emergency") or {}
        self.resources = list(config.get("resources") or [])
        self.banner_texts = config.get("banner") or {}
        self.replies = config.get("replies") or {}
        required = {"replies": [(self.replies, (lang, key)) for lang in LANGUAGES
                                for key in ("opening", "opening_with_role", *CATEGORIES)],
                    "emergency": [(self.emergency, (lang,)) for lang in LANGUAGES]
                    + [(self.emergency, ("banner", lang)) for lang in LANGUAGES],
                    "banner": [(self.banner_texts, (lang, key)) for lang in LANGUAGES for key in ("title", "footer")]}
        required["replies"] += [(self.replies, ("followups", lang, key)) for lang in LANGUAGES for key in CATEGORIES
                                if self.replies.get("followups")]
        # replies.situations: [{id, categories?, first_reply_only?, reported_by?: [rule-id prefix or pattern group],
        # followups?: {<lang>: [text]}, <lang>: {report, self, reply, ongoing?, advice?: [{when, text, fallback?}]}}]
        # (optional), checked in order
        self.situations: dict[str, Situation] = {}
        for item in self.replies.get("situations") or []:
            name = item.get("id") if isinstance(item, dict) else None
            if not name:
                raise reader.fail("situations:", "every entry of replies.situations needs an `id`")
            categories = item.get("categories")
            if categories is not None and not (isinstance(categories, list) and set(categories) <= set(CATEGORIES)):
                raise reader.fail(f"id: {name}", f"replies.situations.{name}.categories must be a list of "
                                                 f"categories ({', '.join(CATEGORIES)})")
            first_only = item.get("first_reply_only", True)
            if not isinstance(first_only, bool):
                raise reader.fail(f"id: {name}", f"replies.situations.{name}.first_reply_only must be true or false")
            followups = item.get("followups") or {}
            if not (isinstance(followups, dict) and all(
                    isinstance(texts, list) and texts and all(isinstance(t, str) for t in texts)
                    for texts in followups.values())):
                raise reader.fail(f"id: {name}", f"replies.situations.{name}.followups must map a language to a "
                                                 "list of texts")
            reported_by = item.get("reported_by") or []
            if not (isinstance(reported_by, list) and all(isinstance(p, str) and p for p in reported_by)):
                raise reader.fail(f"id: {name}", f"replies.situations.{name}.reported_by must be a list of rule-id "
                                                 "prefixes or pattern groups")
            situation = Situation(frozenset(categories) if categories is not None else None, first_only,
                                  followups=followups, reported_by=tuple(reported_by))
            for lang in LANGUAGES:
                spec = item.get(lang)
                if spec is None:
                    continue
                if not isinstance(spec, dict) or not isinstance(spec.get("reply"), str):
                    raise reader.fail(f"id: {name}", f"replies.situations.{name}.{lang} needs `report`, `self` and `reply`")
                situation.texts[lang] = (
                    reader.compile(spec.get("report"), {}, f"situations.{name}.{lang}.report", f"id: {name}"),
                    reader.compile(spec.get("self"), {}, f"situations.{name}.{lang}.self", f"id: {name}"),
                    spec["reply"])
                if spec.get("ongoing") is not None:
                    situation.ongoing[lang] = reader.compile(spec["ongoing"], {}, f"situations.{name}.{lang}.ongoing",
                                                             f"id: {name}")
                situation.advice[lang] = self._advice(reader, spec.get("advice"), name, lang)
            self.situations[name] = situation
        for section, entries in required.items():
            for mapping, keys in entries:
                value = mapping
                for key in keys:
                    value = value.get(key) if isinstance(value, dict) else None
                if keys[0] == "followups":
                    if not (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
                        raise reader.fail(f"{section}:", f"{section}.{'.'.join(keys)} must be a list of strings")
                elif not isinstance(value, str):
                    raise reader.fail(f"{section}:", f"{section}.{'.'.join(keys)} must be a string")

    @staticmethod
    def _advice(reader: RuleFileReader, entries, name: str, lang: str) -> list[Advice]:
        """Situation ``name``'s ``advice`` list in ``lang``, checked: each entry a ``when`` pattern and a ``text``."""
        if entries is None:
            return []
        where = f"situations.{name}.{lang}.advice"
        if not isinstance(entries, list) or not all(
                isinstance(e, dict) and isinstance(e.get("when"), str) and isinstance(e.get("text"), str)
                and isinstance(e.get("fallback", False), bool) for e in entries):
            raise reader.fail(f"id: {name}", f"replies.{where} must be a list of {{when, text, fallback?}} entries")
        return [Advice(reader.compile(e["when"], {}, where, f"id: {name}"), e["text"].strip(), e.get("fallback", False))
                for e in entries]

    def situation(self, normalized_message: str, lang: str | None, category: str | None = None,
                  variant: int = 0, continuing: str | None = None, rules: tuple[str, ...] = (),
                  groups: tuple[str | None, ...] = ()) -> str | None:
        """The first situation whose gates admit ``category`` and ``variant`` (how many crisis replies came
        before), whose ``report`` matches and whose ``self`` does not ("someone_hurt": someone else hurt or in
        physical danger now; "someone_else": a worried helper; "threatened": a seeker in danger from someone), or
        None for the usual reply. ``continuing``: the situation an earlier crisis reply of the conversation started;
        it holds unless its ``self`` matches.
        ``rules``: the ids of the rules that flagged the message, ``groups`` their pattern groups (None: none); when
        every one starts with a prefix of the situation's ``reported_by`` ("third_party": a rule about someone else)
        or is in a group it names ("someone_else_emergency"), they are its report."""
        lang = lang_key(lang)
        if continuing is not None:
            kept = self.situations.get(continuing)
            _, own, _ = kept.texts.get(lang, (None, None, None)) if kept else (None, None, None)
            return continuing if own is not None and not own.search(normalized_message) else None
        groups = tuple(groups) + (None,) * (len(rules) - len(groups))  # a caller may give the rule ids alone
        for name, entry in self.situations.items():
            if (entry.categories is not None and category not in entry.categories) \
                    or (entry.first_reply_only and variant > 0):
                continue
            report, own, _ = entry.texts.get(lang, (None, None, None))
            reported = bool(rules) and bool(entry.reported_by) and all(
                rule.startswith(entry.reported_by) or group in entry.reported_by for rule, group in zip(rules, groups))
            if report is not None and (reported or report.search(normalized_message)) \
                    and not own.search(normalized_message):
                return name
        return None

    def still_ongoing(self, normalized_message: str, lang: str | None, name: str) -> bool:
        """Whether the message says the danger of situation ``name`` still holds ("she's still not answering")."""
        situation = self.situations.get(name)
        pattern = situation.ongoing.get(lang_key(lang)) if situation else None
        return pattern is not None and pattern.search(normalized_message) is not None

    def reply(self, result: SafetyResult, role, lang: str | None, variant: int = 0,
              situation: str | None = None, normalized_message: str | None = None) -> str:
        """The crisis reply: the situation's text when one is given, else the category's; a later crisis turn
        (``variant`` > 0) gets a follow-up. A situation's ``{advice}`` is the pieces its ``when`` finds in
        ``normalized_message`` (the fallback pieces when none, or no message)."""
        lang = lang_key(lang)
        texts = self.replies[lang]
        category = result.category if result.category in CATEGORIES else "suicide"
        name = role.name(lang) if role else None
        followups = ((self.replies.get("followups") or {}).get(lang) or {}).get(category) or []
        later = variant > 0 and bool(followups)
        opening_key = "followup_opening_with_role" if later and "followup_opening_with_role" in texts \
            else "opening_with_role"
        opening = texts[opening_key].format(name=name) if name else texts["opening"]
        separator = by_lang(lang, en="; ", zh="；")
        lines = separator.join(r["inline"][lang] for r in self.resources if lang in r.get("inline", {}))
        chosen = self.situations.get(situation) if situation else None
        special = chosen.texts.get(lang) if chosen else None
        special_followups = chosen.followups.get(lang) if special else None
        if special and variant > 0 and special_followups:
            template = special_followups[(variant - 1) % len(special_followups)]
        elif special:
            template = special[2]
        else:
            template = followups[(variant - 1) % len(followups)] if later else texts[category]
        advice = ""
        if chosen is not None and "{advice}" in template:
            pieces = chosen.advice.get(lang, [])
            fitting = [a.text for a in pieces if normalized_message and a.when.search(normalized_message)]
            advice = by_lang(lang, en=" ", zh="").join(fitting or [a.text for a in pieces if a.fallback])
        return template.format(opening=opening, emergency=self.emergency[lang], lines=lines, advice=advice).strip()

    def banner(self, lang: str | None) -> str:
        lang = lang_key(lang)
        items = [f"- {r['banner'][lang]}" for r in self.resources if lang in r.get("banner", {})]
        texts = self.banner_texts[lang]
        return "\n\n".join([texts["title"], self.emergency["banner"][lang], "\n".join(items), texts["footer"]])
