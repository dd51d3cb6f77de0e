"""The role bank: personas, the PsyQA topic taxonomy and ESConv problem types -> topic -> persona.

Content lives in ``empath/data/roles.yaml`` (or a file named by ``EMPATH_ROLES``); adding a
persona is adding an entry there.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ._data import PACKAGE_DATA, ById, DataFileError, load_yaml
from .lang import BilingualLabel, by_lang

DEFAULT_ROLES_FILE = PACKAGE_DATA / "roles.yaml"
LANGUAGES = ("en", "zh")


class UnknownRoleError(KeyError):
    """Raised for a role id that is not in the bank; the message lists the valid ids."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


class Topic(BilingualLabel):
    """A PsyQA topic (``roles.yaml`` ``topics``): what a seeker's question is about."""


@dataclass(frozen=True)
class Role:
    id: str
    name_en: str
    name_zh: str
    source_en: str
    source_zh: str
    topic: str
    profile: dict = field(default_factory=dict)  # lang -> {background, personality, traits}
    style: dict = field(default_factory=dict)  # lang -> {description, examples}
    aliases: tuple = ()

    def name(self, lang: str = "en") -> str:
        return by_lang(lang, en=self.name_en, zh=self.name_zh)

    def source(self, lang: str = "en") -> str:
        return by_lang(lang, en=self.source_en, zh=self.source_zh)

    def profile_text(self, lang: str = "en") -> str:
        """Background, personality and traits as one paragraph (prompts, text-initialised embeddings)."""
        p = self.profile.get(lang) or self.profile.get("en", {})
        traits = p.get("traits") or []
        sep = by_lang(lang, en="; ", zh="；")
        parts = [p.get("background", ""), p.get("personality", ""), sep.join(traits)]
        return by_lang(lang, en=" ", zh="").join(x for x in parts if x)

    def style_description(self, lang: str = "en") -> str:
        return (self.style.get(lang) or self.style.get("en", {})).get("description", "")

    def style_examples(self, lang: str = "en") -> list[str]:
        return list((self.style.get(lang) or self.style.get("en", {})).get("examples", []))


_ROLE_REQUIRED = ("id", "name_en", "name_zh", "source_en", "source_zh", "topic", "profile", "style")


class RoleBank(ById):
    """An ordered, validated collection of roles and topics. Order defines class indices."""

    def __init__(self, roles: list[Role], topics: list[Topic], problem_types: dict[str, str]):
        self.roles = list(roles)
        self.topics = list(topics)
        self._by_id = {r.id: r for r in self.roles}
        self._topic_by_key: dict[str, Topic] = {}
        for t in self.topics:
            for key in (t.id, t.name_en, t.name_zh):
                self._topic_by_key[key.strip().lower()] = t
        self.problem_types = {k.strip().lower(): v for k, v in problem_types.items()}

    # -- construction -------------------------------------------------------------------
    @classmethod
    def from_file(cls, path: str | os.PathLike | None = None) -> "RoleBank":
        path = Path(path or os.environ.get("EMPATH_ROLES") or DEFAULT_ROLES_FILE)
        data = load_yaml(path) or {}
        topics = [Topic(**t) for t in data.get("topics", [])]
        topic_ids = {t.id for t in topics}
        roles, seen = [], set()
        for i, entry in enumerate(data.get("roles", [])):
            missing = [k for k in _ROLE_REQUIRED if not entry.get(k)]
            if missing:
                raise DataFileError(f"{path}: role #{i + 1} ({entry.get('id', '?')}) lacks {', '.join(missing)}")
            if entry["id"] in seen:
                raise DataFileError(f"{path}: duplicate role id {entry['id']!r}")
            if entry["topic"] not in topic_ids:
                raise DataFileError(f"{path}: role {entry['id']!r} has unknown topic {entry['topic']!r}; topics: {sorted(topic_ids)}")
            seen.add(entry["id"])
            roles.append(Role(**{**entry, "aliases": tuple(entry.get("aliases", ()))}))
        for pt, topic in (data.get("problem_types") or {}).items():
            if topic not in topic_ids:
                raise DataFileError(f"{path}: problem type {pt!r} maps to unknown topic {topic!r}")
        if not roles:
            raise DataFileError(f"{path}: no roles defined")
        return cls(roles, topics, data.get("problem_types") or {})

    # -- lookup -------------------------------------------------------------------------
    @property
    def ids(self) -> list[str]:
        return [r.id for r in self.roles]

    def __len__(self) -> int:
        return len(self.roles)

    def __iter__(self):
        return iter(self.roles)

    def _unknown(self, role_id: str) -> KeyError:
        return UnknownRoleError(f"unknown role {role_id!r}; valid ids: {', '.join(self.ids)}")

    def index(self, role_id: str) -> int:
        return self.ids.index(self.get(role_id).id)

    def resolve(self, name: str) -> Role:
        """Find a role by id, English/Chinese name or alias (case-insensitive)."""
        key = name.strip().lower()
        for r in self.roles:
            if key in {r.id, r.name_en.lower(), r.name_zh.lower(), *(a.lower() for a in r.aliases)}:
                return r
        return self.get(name)  # raises with the list of valid ids

    def topic(self, key: str) -> Topic:
        try:
            return self._topic_by_key[key.strip().lower()]
        except KeyError:
            raise KeyError(f"unknown topic {key!r}; valid: {', '.join(t.id for t in self.topics)}") from None

    def roles_for_topic(self, topic: str) -> list[Role]:
        tid = self.topic(topic).id
        return [r for r in self.roles if r.topic == tid]

    def role_for_topic(self, topic: str) -> Role:
        """The first persona serving a topic (the built-in bank has exactly one each)."""
        roles = self.roles_for_topic(topic)
        if not roles:
            raise KeyError(f"no role serves topic {topic!r}")
        return roles[0]

    def topic_for_problem_type(self, problem_type: str) -> Topic:
        key = problem_type.strip().lower()
        if key not in self.problem_types:
            raise KeyError(f"unknown ESConv problem type {problem_type!r}; known: {', '.join(sorted(self.problem_types))}")
        return self.topic(self.problem_types[key])

    def role_for_problem_type(self, problem_type: str) -> Role:
        return self.role_for_topic(self.topic_for_problem_type(problem_type).id)


@lru_cache(maxsize=4)
def _cached(path: str | None) -> RoleBank:
    return RoleBank.from_file(path)


def load_roles(path: str | os.PathLike | None = None) -> RoleBank:
    """The role bank (cached per path). ``None`` means ``EMPATH_ROLES`` or the built-in file."""
    return _cached(str(path) if path else os.environ.get("EMPATH_ROLES"))
