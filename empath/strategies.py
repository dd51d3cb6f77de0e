"""The eight helping strategies, their counselling stages, and the one place aliases are normalised.

Content lives in ``empath/data/strategies.yaml``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ._data import PACKAGE_DATA, DataFileError, load_yaml
from .lang import BilingualLabel, by_lang

STRATEGIES_FILE = PACKAGE_DATA / "strategies.yaml"


class UnknownStrategyError(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class Strategy:
    name: str
    name_zh: str
    stage: str
    definition_en: str
    definition_zh: str

    def definition(self, lang: str = "en") -> str:
        return by_lang(lang, en=self.definition_en, zh=self.definition_zh)

    def display_name(self, lang: str = "en") -> str:
        return by_lang(lang, en=self.name, zh=self.name_zh)


class Stage(BilingualLabel):
    """A counselling stage (``strategies.yaml`` ``stages``): exploration, comforting or action."""


@lru_cache(maxsize=1)
def _load() -> tuple[list[Strategy], list[Stage], dict[str, str]]:
    data = load_yaml(STRATEGIES_FILE)
    stages = [Stage(**s) for s in data["stages"]]
    stage_ids = {s.id for s in stages}
    strategies = [Strategy(**s) for s in data["strategies"]]
    for s in strategies:
        if s.stage not in stage_ids:
            raise DataFileError(f"{STRATEGIES_FILE}: strategy {s.name!r} has unknown stage {s.stage!r}")
    canon = {s.name for s in strategies}
    aliases = {}
    for alias, target in (data.get("aliases") or {}).items():
        if target not in canon:
            raise DataFileError(f"{STRATEGIES_FILE}: alias {alias!r} points to unknown strategy {target!r}")
        aliases[_key(alias)] = target
    for s in strategies:
        aliases[_key(s.name)] = s.name
        aliases[_key(s.name_zh)] = s.name
    return strategies, stages, aliases


def _key(label: str) -> str:
    label = label.strip().strip("[]【】").strip()
    return re.sub(r"\s+", " ", label).lower()


def strategies() -> list[Strategy]:
    return list(_load()[0])


def stages() -> list[Stage]:
    return list(_load()[1])


STRATEGY_NAMES: tuple[str, ...] = tuple(s.name for s in strategies())


def normalize_strategy(label: str) -> str:
    """Canonical ESConv spelling for any known alias; raises UnknownStrategyError otherwise."""
    if not isinstance(label, str) or not label.strip():
        raise UnknownStrategyError(f"empty strategy label; valid: {', '.join(STRATEGY_NAMES)}")
    try:
        return _load()[2][_key(label)]
    except KeyError:
        raise UnknownStrategyError(f"unknown strategy {label!r}; valid: {', '.join(STRATEGY_NAMES)}") from None


def get_strategy(label: str) -> Strategy:
    name = normalize_strategy(label)
    return next(s for s in strategies() if s.name == name)


def strategy_index(label: str) -> int:
    return STRATEGY_NAMES.index(normalize_strategy(label))


def stage_of(label: str) -> str:
    return get_strategy(label).stage


def strategies_in_stage(stage_id: str) -> list[str]:
    if stage_id not in {s.id for s in stages()}:
        raise KeyError(f"unknown stage {stage_id!r}; valid: {', '.join(s.id for s in stages())}")
    return [s.name for s in strategies() if s.stage == stage_id]
