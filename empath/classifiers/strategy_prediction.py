"""Strategy prediction (Eq. 10): the helping strategy of the next supporter turn."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from .._data import DataFileError
from ..dialogue import Background, Turn
from ..strategies import STRATEGY_NAMES
from .base import CONFIG_NAME, STRATEGY_TASK, ClassifierInputError, pick_scorer
from .folder import classifier_folder, load_scorers, read_config, write_section
from .inputs import _background, _turns, background_lang, role_text


@dataclass(frozen=True)
class StrategyPrediction:
    strategy: str
    probs: dict[str, float]
    lang: str = "en"


class StrategyPredictor:
    """Predicts the strategy of the next supporter turn from the background and the dialogue so far (Eq. 10)."""

    def __init__(self, scorers: dict[str, Any], default_lang: str = "en"):
        if not scorers:
            raise DataFileError("a StrategyPredictor needs at least one trained head")
        self.scorers = dict(scorers)
        self.default_lang = default_lang if default_lang in self.scorers else next(iter(self.scorers))
        for lang, scorer in self.scorers.items():
            unknown = [s for s in scorer.labels if s not in STRATEGY_NAMES]
            if unknown:
                raise DataFileError(f"strategy head {lang} has unknown labels {unknown}; valid: {', '.join(STRATEGY_NAMES)}")

    @classmethod
    def load(cls, path_or_repo: str | os.PathLike | None = None) -> "StrategyPredictor":
        folder = classifier_folder(path_or_repo)
        scorers, default = load_scorers(STRATEGY_TASK, folder, read_config(folder))
        if not scorers:
            raise DataFileError(f"{folder / CONFIG_NAME}: no strategy head")
        return cls(scorers, default)

    def save(self, folder: str | os.PathLike, **extra) -> Path:
        return write_section(folder, STRATEGY_TASK, self.scorers, self.default_lang, extra)

    def predict(self, background: Background | dict | None, context_turns: Sequence[Turn | dict] = (),
                lang: str | None = None) -> StrategyPrediction:
        return self.predict_batch([(background, context_turns)], lang=lang)[0]

    def predict_batch(self, items: Sequence[tuple[Background | None, Sequence[Turn]]], lang: str | None = None,
                      progress: bool = False) -> list[StrategyPrediction]:
        prepared, langs = [], []
        for i, (bg, turns) in enumerate(items):
            bg, turns = _background(bg), _turns(turns)
            if not role_text(bg) and not turns:
                raise ClassifierInputError(
                    f"strategy prediction input {i} is empty: give a background or at least one context turn")
            prepared.append((bg, turns))
            langs.append(lang or background_lang(bg, turns))
        out: list[StrategyPrediction | None] = [None] * len(prepared)
        for group_lang in dict.fromkeys(langs):
            idx = [i for i, l in enumerate(langs) if l == group_lang]
            scorer = pick_scorer(self.scorers, self.default_lang, group_lang)
            chunk = [prepared[i] for i in idx]
            probs = scorer.proba(chunk, progress=progress)
            for row, i in zip(probs, idx):
                dist = {s: 0.0 for s in STRATEGY_NAMES}
                dist.update({s: float(p) for s, p in zip(scorer.labels, row)})
                out[i] = StrategyPrediction(max(dist, key=dist.get), dist, group_lang)
        return out
