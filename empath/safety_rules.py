"""The transparent first stage of the crisis check: the rules of ``empath/data/safety.yaml`` compiled per
language (risk patterns, normalisers, masks and sentence-level context rules)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._data import DataFileError

CATEGORIES = ("suicide", "self_harm", "harm_to_others")  # also the priority when several fire

_ELLIPSIS = re.compile(r"…+|\.{2,}|。{2,}")
# "!" between two letters is a look-alike for "i" ("k!ll"), not the end of a sentence
_SENTENCE_END = re.compile(r"(?:[.?;。！？；\n\r]|(?<![a-z])!|!(?![a-z]))+", re.IGNORECASE)
_QUOTED = re.compile(r'"[^"]*(?:"|$)|“[^”]*(?:”|$)|「[^」]*(?:」|$)|『[^』]*(?:』|$)|(?<![a-z])\'[^\']+(?:\'(?![a-z])|$)')
_MACRO = re.compile(r"\{([A-Z_]+)\}")


@dataclass(frozen=True)
class Rule:
    id: str
    regex: re.Pattern
    category: str | None = None
    scope: str = "sentence"  # "message": the pattern reads the whole message ("a goodbye text. Now she isn't answering")
    group: str | None = None  # a family that contexts can name at once (`groups:`), e.g. someone else's emergency


@dataclass(frozen=True)
class ContextRule:
    id: str
    categories: frozenset
    rules: frozenset  # pattern ids ("jump"); empty = every pattern of the categories
    when: re.Pattern
    unless: re.Pattern | None
    ignore_quoted: bool
    scope: str = "sentence"  # "message": `when`/`unless` read the whole message ("… Therapy helped, I'm well now.")
    model_decides: bool = False  # the rule's hit is dropped, but the learned stage still reads the message
    except_rules: frozenset = frozenset()  # pattern ids of its categories it never applies to
    unless_in_message: re.Pattern | None = None  # read over the whole message ("like i used to. gonna do it again")

    def drops(self, rule: Rule, sentence: str, span: tuple[int, int], message: str | None = None) -> bool:
        name = rule.id.rsplit("/", 1)[-1]
        if rule.category not in self.categories or (self.rules and name not in self.rules) or name in self.except_rules:
            return False
        if self.scope == "message" and message is not None:
            sentence, span = message, (-1, -1)
        if not self.when.search(sentence):
            return False
        if self.unless_in_message is not None and self.unless_in_message.search(message or sentence):
            return False
        if self.ignore_quoted:
            quotes = [m.span() for m in _QUOTED.finditer(sentence)]
            if any(start < span[1] <= end for start, end in quotes):
                return True  # the risky words are quoted: reported speech
            sentence = _QUOTED.sub(" ", sentence)
        return self.unless is None or not self.unless.search(sentence)


@dataclass(frozen=True)
class LanguageRules:
    lang: str
    char_map: dict
    rewrites: tuple
    masks: tuple
    patterns: tuple
    contexts: tuple

    def normalize(self, sentence: str) -> str:
        text = sentence.lower().translate(self.char_map)
        for pattern, replacement in self.rewrites:
            text = pattern.sub(replacement, text)
        return text.strip()

    @property
    def reads_whole_messages(self) -> bool:
        """Whether any pattern has ``scope: message``."""
        return any(rule.scope == "message" for rule in self.patterns)

    def mask(self, sentence: str) -> str:
        for rule in self.masks:  # same-length blanks keep offsets and word boundaries
            sentence = rule.regex.sub(lambda m: " " * len(m.group()), sentence)
        return sentence


class RuleFileReader:
    """Turns the YAML into compiled rules; every error names the file and the line of the rule."""

    def __init__(self, path: Path):
        self.path = path
        self.lines = path.read_text(encoding="utf-8").splitlines()

    def where(self, needle: str | None = None) -> str:
        if needle:
            for number, line in enumerate(self.lines, 1):
                if needle in line:
                    return f"{self.path}:{number}"
        return str(self.path)

    def fail(self, needle: str | None, message: str) -> DataFileError:
        return DataFileError(f"{self.where(needle)}: {message}")

    def compile(self, source: Any, macros: dict[str, str], rule_id: str, needle: str | None = None) -> re.Pattern:
        if not isinstance(source, str) or not source.strip():
            raise self.fail(needle or rule_id, f"{rule_id}: regex must be a non-empty string")
        expanded = self.expand(source, macros, rule_id, needle)
        try:
            return re.compile(expanded)
        except re.error as exc:
            raise self.fail(needle or rule_id, f"{rule_id}: invalid regex ({exc})") from exc

    def compile_optional(self, source: Any, macros: dict[str, str], rule_id: str,
                         needle: str | None) -> re.Pattern | None:
        """``compile`` for an optional key (``unless``, ``unless_in_message``): None when it is absent."""
        return self.compile(source, macros, rule_id, needle) if source else None

    def expand(self, source: str, macros: dict[str, str], rule_id: str, needle: str | None) -> str:
        def substitute(match: re.Match) -> str:
            name = match.group(1)
            if name not in macros:
                raise self.fail(needle or rule_id, f"{rule_id}: unknown macro {{{name}}}; defined: {sorted(macros)}")
            return f"(?:{macros[name]})"  # one unit: "(?=.*{M})" must not read only M's first alternative after ".*"

        return _MACRO.sub(substitute, source)

    def language(self, lang: str, spec: Any) -> LanguageRules:
        if not isinstance(spec, dict):
            raise self.fail(f"{lang}:", f"languages.{lang} must be a mapping")
        macros: dict[str, str] = {}
        for name, value in (spec.get("macros") or {}).items():  # later macros may use earlier ones
            macros[name] = self.expand(str(value).strip(), macros, f"{lang}.macros.{name}", f"{name}:")
        pairs = str(spec.get("char_map") or "")
        if len(pairs) % 2:
            raise self.fail("char_map:", f"languages.{lang}.char_map must list character pairs")
        rewrites = []
        for i, item in enumerate(spec.get("normalize") or []):
            if not (isinstance(item, list) and len(item) == 2):
                raise self.fail("normalize:", f"languages.{lang}.normalize[{i}] must be [regex, replacement]")
            rewrites.append((self.compile(item[0], {}, f"{lang}.normalize[{i}]", "normalize:"), str(item[1])))
        masks = tuple(self.rule(lang, None, item, macros) for item in spec.get("masks") or [])
        patterns: list[Rule] = []
        for category, items in (spec.get("patterns") or {}).items():
            if category not in CATEGORIES:
                raise self.fail(f"{category}:", f"unknown category {category!r}; valid: {', '.join(CATEGORIES)}")
            patterns.extend(self.rule(lang, category, item, macros) for item in items or [])
        groups: dict[str, set[str]] = {}
        for rule in patterns:
            if rule.group:
                groups.setdefault(rule.group, set()).add(rule.id.rsplit("/", 1)[-1])
        names = {rule.id.rsplit("/", 1)[-1] for rule in patterns}
        contexts = tuple(self.context(lang, item, macros, names, groups) for item in spec.get("contexts") or [])
        return LanguageRules(lang, str.maketrans(pairs[::2], pairs[1::2]), tuple(rewrites), masks,
                              tuple(patterns), contexts)

    def rule(self, lang: str, category: str | None, item: Any, macros: dict[str, str]) -> Rule:
        if not isinstance(item, dict) or not item.get("id"):
            raise self.fail(None, f"languages.{lang}: every mask and pattern needs an `id` and a `regex`")
        needle = f"id: {item['id']}"
        rule_id = "/".join(filter(None, (lang, category or "mask", item["id"])))
        scope = item.get("scope", "sentence")
        if scope not in ("sentence", "message") or (scope == "message" and category is None):
            raise self.fail(needle, f"{rule_id}: scope must be `sentence` or (patterns only) `message`, got {scope!r}")
        group = item.get("group")
        if group is not None and (category is None or not isinstance(group, str) or not group.strip()):
            raise self.fail(needle, f"{rule_id}: group must be a name, on patterns only, got {group!r}")
        return Rule(rule_id, self.compile(item.get("regex"), macros, rule_id, needle), category, scope, group)

    def context(self, lang: str, item: Any, macros: dict[str, str], names: set[str],
                groups: dict[str, set[str]]) -> ContextRule:
        """A compiled context rule; ``names``: the language's pattern ids, ``groups``: their ids by ``group``."""
        if not isinstance(item, dict) or not item.get("id") or not item.get("when"):
            raise self.fail(None, f"languages.{lang}.contexts: every context needs `id`, `categories` and `when`")
        needle = f"id: {item['id']}"
        categories = item.get("categories") or list(CATEGORIES)
        unknown = [c for c in categories if c not in CATEGORIES]
        if unknown:
            raise self.fail(needle, f"context {item['id']}: unknown categories {unknown}; valid: {', '.join(CATEGORIES)}")
        unless, unless_in_message = item.get("unless"), item.get("unless_in_message")
        rule_id = f"{lang}/context/{item['id']}"
        scope = item.get("scope", "sentence")
        if scope not in ("sentence", "message"):
            raise self.fail(needle, f"context {item['id']}: scope must be `sentence` or `message`, got {scope!r}")
        unknown_groups = [g for g in item.get("groups") or () if g not in groups]
        if unknown_groups:
            raise self.fail(needle, f"context {item['id']}: unknown groups {unknown_groups}; defined: {sorted(groups)}")
        rules = {*(item.get("rules") or ()), *(name for g in item.get("groups") or () for name in groups[g])}
        unknown = sorted(r for r in {*rules, *(item.get("except_rules") or ())} if r not in names)
        if unknown:
            raise self.fail(needle, f"context {item['id']}: unknown pattern ids {unknown}")
        return ContextRule(item["id"], frozenset(categories), frozenset(rules),
                        self.compile(item["when"], macros, rule_id, needle),
                        self.compile_optional(unless, macros, rule_id, needle),
                        bool(item.get("ignore_quoted")), scope, bool(item.get("model_decides")),
                        frozenset(item.get("except_rules") or ()),
                        self.compile_optional(unless_in_message, macros, rule_id, needle))


def split_sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(_ELLIPSIS.sub(", ", text)) if s.strip()]
