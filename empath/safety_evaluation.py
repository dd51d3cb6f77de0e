"""Measuring the crisis detector on labelled sets: reading them, and recall / false-positive rate / precision overall
and per split, language and category (``training/evaluate_safety.py`` prints them)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from ._data import DataFileError
from .lang import LANGUAGES
from .safety import CONVERSATION_RULE_ID, FOLLOWUP_RULE_ID, SPLITS, SafetyChecker, SafetyResult, default_checker
from .safety_rules import CATEGORIES


def load_labelled_set(path: str | os.PathLike) -> list[dict]:
    """Read ``{"text", "lang", "crisis", "category", "note"?, "split"?, "history"?}`` lines (``history``: the
    seeker's earlier turns, read by the conversation-level check; a non-crisis line may leave ``category`` out);
    errors name ``file:line``."""
    path = Path(path)
    items = []
    try:
        handle = path.open(encoding="utf-8")
    except FileNotFoundError as exc:
        raise DataFileError(f"{path}: file not found") from exc
    with handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataFileError(f"{where}: invalid JSON ({exc.msg})") from exc
            problem = _labelled_item_problem(item)
            if problem:
                raise DataFileError(f"{where}: {problem}")
            items.append({"category": None, **item, "line": number})
    return items


def history_lines(paths: list[str | os.PathLike], first_only: bool = False) -> dict[str, str]:
    """The distinct earlier seeker turns (``history``) of the labelled sets ``paths``, each with the language of its
    first item, in file order; ``first_only``: only each item's first turn (a follow-up set's opening disclosure)."""
    lines: dict[str, str] = {}
    for path in paths:
        for item in load_labelled_set(path):
            history = item.get("history") or []
            for line in history[:1] if first_only else history:
                lines.setdefault(line, item["lang"])
    return lines


def _trigrams(text: str) -> set[str]:
    """The character trigrams of ``text`` lower-cased, without punctuation and whitespace; a text of one or two
    characters is its own single gram, an empty one has none."""
    text = "".join(ch for ch in text.lower() if ch.isalnum())
    return {text[i:i + 3] for i in range(len(text) - 2)} or ({text} if text else set())


def near_duplicates(items: list[dict], others: list[dict], min_jaccard: float = 0.6,
                    min_containment: float = 0.75, min_grams: int = 10) -> list[dict]:
    """The items whose text is close to a text of ``others``: a Jaccard similarity |A∩B| / |A∪B| of their trigram sets
    of at least ``min_jaccard`` (equal or lightly reworded), or at least ``min_containment`` of the shorter text's
    trigrams inside the longer one when it has ``min_grams`` or more (a message reused inside a longer one)."""
    index: dict[str, set[int]] = {}
    other_grams = [_trigrams(other["text"]) for other in others]
    for number, grams in enumerate(other_grams):
        for gram in grams:
            index.setdefault(gram, set()).add(number)

    def close(grams: set[str], number: int, shared: int) -> bool:
        smaller = min(len(grams), len(other_grams[number]))
        return (shared / (len(grams) + len(other_grams[number]) - shared) >= min_jaccard
                or (smaller >= min_grams and shared / smaller >= min_containment))

    found = []
    for item in items:
        grams = _trigrams(item["text"])
        shared: dict[int, int] = {}
        for gram in grams:
            for number in index.get(gram, ()):
                shared[number] = shared.get(number, 0) + 1
        if any(close(grams, number, n) for number, n in shared.items()):
            found.append(item)
    return found


def _labelled_item_problem(item: Any) -> str | None:
    if not isinstance(item, dict):
        return "expected a JSON object"
    if not isinstance(item.get("text"), str) or not item["text"].strip():
        return "`text` must be a non-empty string"
    if item.get("lang") not in LANGUAGES:
        return f"`lang` must be one of {', '.join(LANGUAGES)}"
    if not isinstance(item.get("crisis"), bool):
        return "`crisis` must be true or false"
    category = item.get("category")
    if item["crisis"] and category not in CATEGORIES:
        return f"a crisis item needs `category` in {', '.join(CATEGORIES)}"
    if not item["crisis"] and category is not None:
        return "a non-crisis item must have `category: null`"
    if item.get("split", "dev") not in SPLITS:
        return f"`split` must be one of {', '.join(SPLITS)}"
    history = item.get("history")
    if history is not None and not (isinstance(history, list) and all(isinstance(t, str) for t in history)):
        return "`history` (earlier seeker turns, oldest first) must be a list of strings"
    return None


def _rates(gold: list[bool], predicted: list[bool]) -> dict[str, Any]:
    from sklearn.metrics import confusion_matrix

    tn = fp = fn = tp = 0
    if gold:  # sklearn refuses empty input; an empty group simply has no rates
        tn, fp, fn, tp = (int(x) for x in confusion_matrix(gold, predicted, labels=[False, True]).ravel())
    return _rates_of_counts(tp, fn, fp, tn)


def _rates_of_counts(tp: int, fn: int, fp: int, tn: int) -> dict[str, Any]:
    """Counts and the rates they give (None where a rate has no denominator)."""
    def ratio(a: int, b: int) -> float | None:
        return round(a / b, 4) if b else None

    return {"n": tp + fn + fp + tn, "crisis": tp + fn, "non_crisis": tn + fp, "tp": tp, "fn": fn, "fp": fp, "tn": tn,
            "recall": ratio(tp, tp + fn), "fpr": ratio(fp, fp + tn), "precision": ratio(tp, tp + fp)}


def _pooled_rates(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """The rates of several groups' counts summed."""
    return _rates_of_counts(*(sum(report[key] for report in reports) for key in ("tp", "fn", "fp", "tn")))


def check_items(items: list[dict], checker: SafetyChecker) -> tuple[list[SafetyResult], list[bool]]:
    """Each item's message checked as the app checks it, with its earlier seeker turns (``history``), and whether one
    of those turns was flagged (then the message is read after a crisis)."""
    histories = [list(item.get("history") or []) for item in items]
    earlier = checker.check_dialogues(histories, [item["lang"] for item in items])
    after_crisis = [any(r.crisis for r in checked) for checked in earlier]
    results = checker.check_batch([item["text"] for item in items], [item["lang"] for item in items], histories,
                                  after_crisis)
    return results, after_crisis


def evaluate_detector(items: list[dict], checker: SafetyChecker | None = None) -> dict[str, Any]:
    """Recall, false-positive rate and precision overall and per split, language and category, plus
    the misses and false alarms with the rules involved. Time per message is measured on the way."""
    checker = checker or default_checker()
    started = time.perf_counter()
    results, after_crisis = check_items(items, checker)
    elapsed_ms = (time.perf_counter() - started) * 1000
    gold = [item["crisis"] for item in items]
    predicted = [r.crisis for r in results]

    def subset(keep) -> dict[str, Any]:
        chosen = [i for i, item in enumerate(items) if keep(item)]
        return _rates([gold[i] for i in chosen], [predicted[i] for i in chosen])

    report: dict[str, Any] = {"overall": _rates(gold, predicted)}
    report["by_split"] = {s: subset(lambda it, s=s: it.get("split", "dev") == s)
                          for s in SPLITS if any(it.get("split", "dev") == s for it in items)}
    report["by_lang"] = {lang: subset(lambda it, lang=lang: it["lang"] == lang) for lang in LANGUAGES}
    report["by_split_lang"] = {f"{s}/{lang}": subset(lambda it, s=s, lang=lang: it.get("split", "dev") == s
                                                     and it["lang"] == lang)
                               for s in report["by_split"] for lang in LANGUAGES}
    report["by_category"] = {c: subset(lambda it, c=c: it["category"] == c) for c in CATEGORIES}
    if any(item.get("history") for item in items):  # items read together with earlier seeker turns
        report["conversation"] = subset(lambda it: bool(it.get("history")))
        # items whose history had a flagged turn: the follow-up stage's cases
        report["after_crisis"] = _rates([g for g, after in zip(gold, after_crisis) if after],
                                        [p for p, after in zip(predicted, after_crisis) if after])
    caught = [(item, r) for item, r in zip(items, results) if item["crisis"] and r.crisis]
    report["category_agreement"] = round(sum(it["category"] == r.category for it, r in caught) / len(caught), 4) \
        if caught else None
    report["misses"] = [_row(it, r) for it, r in zip(items, results) if it["crisis"] and not r.crisis]
    report["false_alarms"] = [_row(it, r) for it, r in zip(items, results) if not it["crisis"] and r.crisis]
    report["ms_per_message"] = round(elapsed_ms / max(len(items), 1), 4)  # batched
    report["uses_model"] = checker.model is not None
    return report


def _row(item: dict, result: SafetyResult) -> dict[str, Any]:
    return {"line": item.get("line"), "split": item.get("split", "dev"), "lang": item["lang"],
            "category": item["category"], "text": item["text"], "matched": result.matched,
            "suppressed": result.suppressed, "score": result.score, "note": item.get("note")}


class HeadMixSweep:
    """Stands in for a checker's :class:`~empath.safety_model.CrisisModel` while ``mlp_weight`` (the perceptrons'
    share of the crisis probability) and ``encoder_head_weight`` (the encoder head's) are varied: each text's head
    probabilities are computed once and mixed anew."""

    def __init__(self, model):
        self.model = model
        self.mlp_weight = model.mlp_weight
        self.encoder_head_weight = getattr(model, "encoder_head_weight", 0.0)
        self._heads: dict[tuple[str, str | None], tuple] = {}

    def __getattr__(self, name: str):
        return getattr(self.model, name)

    def predict_proba(self, texts: list[str], langs: list[str | None] | None = None):
        """``CrisisModel.predict_proba`` at the current ``mlp_weight`` and ``encoder_head_weight``."""
        import numpy as np

        from .safety_model import mix_encoder_head, mix_probabilities

        keys = list(zip(texts, langs or [None] * len(texts)))
        new = [key for key in dict.fromkeys(keys) if key not in self._heads]
        if new:
            new_texts, new_langs = [t for t, _ in new], [lang for _, lang in new]
            regression, perceptrons = self.model.head_proba(new_texts, new_langs)
            encoder = self.model.encoder_head_proba(new_texts, new_langs) \
                if getattr(self.model, "encoder_head", None) is not None else None
            for row, key in enumerate(new):
                self._heads[key] = (regression[row], None if perceptrons is None else perceptrons[row],
                                    None if encoder is None else encoder[row])
        if not keys:
            return self.model.predict_proba(texts, langs)
        rows = [self._heads[key] for key in keys]
        perceptrons = None if rows[0][1] is None else np.array([row[1] for row in rows])
        encoder = None if rows[0][2] is None else np.array([row[2] for row in rows])
        mixed = mix_probabilities(np.array([row[0] for row in rows]), perceptrons, self.mlp_weight)
        return mix_encoder_head(mixed, encoder, self.encoder_head_weight, getattr(self.model, "encoder_head_floor", 0.0))


def operating_points(items: list[dict], checker: SafetyChecker, weights: list[float],
                     thresholds: list[float], encoder_weights: list[float] | None = None) -> list[dict[str, Any]]:
    """Recall, FPR and precision of ``checker`` on ``items`` (overall and per language) at every perceptron share
    × encoder-head share (default: the model's own) × crisis threshold; the checker's own model and threshold are
    restored afterwards."""
    return pooled_operating_points([(items, checker)], weights, thresholds, encoder_weights)


def pooled_operating_points(groups: list[tuple[list[dict], SafetyChecker]], weights: list[float],
                            thresholds: list[float], encoder_weights: list[float] | None = None
                            ) -> list[dict[str, Any]]:
    """:func:`operating_points` over several ``(items, checker)`` groups of one model -- say each held-out set with
    the rules it was first measured with -- pooled by summing their counts at each point."""
    grids = [_operating_reports(items, checker, weights, thresholds, encoder_weights) for items, checker in groups]
    keep = ("recall", "fpr", "precision")
    points = []
    for cells in zip(*grids):
        overall = _pooled_rates([report["overall"] for _, report in cells])
        by_lang = {lang: _pooled_rates([report["by_lang"][lang] for _, report in cells]) for lang in LANGUAGES}
        points.append({**cells[0][0], **{k: overall[k] for k in keep},
                       "by_lang": {lang: {k: rates[k] for k in keep} for lang, rates in by_lang.items()},
                       "counts": {k: overall[k] for k in ("tp", "fn", "fp", "tn")}})
    return points


def _operating_reports(items: list[dict], checker: SafetyChecker, weights: list[float], thresholds: list[float],
                       encoder_weights: list[float] | None) -> list[tuple[dict[str, float], dict[str, Any]]]:
    """``evaluate_detector``'s report at every point of the grid, each with the point; the checker is restored."""
    if checker.model is None:
        raise ValueError("operating points need a checker with the learned stage")
    model, threshold, by_language = checker.model, checker.threshold, checker.language_thresholds
    sweep = checker.model = HeadMixSweep(model)
    checker.language_thresholds = {}  # each point's threshold holds for every language
    reports = []
    try:
        for weight in weights:
            for encoder_weight in encoder_weights if encoder_weights is not None else [sweep.encoder_head_weight]:
                for value in thresholds:
                    sweep.mlp_weight, sweep.encoder_head_weight, checker.threshold = weight, encoder_weight, value
                    reports.append(({"mlp_weight": weight, "encoder_weight": encoder_weight, "threshold": value},
                                    evaluate_detector(items, checker)))
    finally:
        checker.model, checker.threshold, checker.language_thresholds = model, threshold, by_language
    return reports


def choose_operating_point(points: list[dict[str, Any]], min_recall: float) -> dict[str, Any] | None:
    """The point with the lowest FPR among those with recall >= ``min_recall`` (ties: the higher recall, then the
    smaller perceptron share, then the smaller encoder-head share); None when no point reaches that recall."""
    eligible = [p for p in points if p["recall"] is not None and p["recall"] >= min_recall]
    return min(eligible, key=lambda p: (p["fpr"], -p["recall"], p["mlp_weight"], p.get("encoder_weight", 0.0))) \
        if eligible else None


def differing_readings(dialogues: list[list[str]], langs: list[str], old: SafetyChecker, new: SafetyChecker
                       ) -> list[int]:
    """The dialogues (seeker turns, oldest first) that two checkers' rules read differently in some turn
    (:meth:`SafetyChecker.rules_reading`); with one model the others get the same outcome from both."""
    return [d for d, (turns, lang) in enumerate(zip(dialogues, langs))
            if any(old.rules_reading(turn, lang) != new.rules_reading(turn, lang) for turn in turns)]


def compare_detectors(items: list[dict], old: SafetyChecker, new: SafetyChecker, full: bool = False
                      ) -> dict[str, Any]:
    """The labelled items one detector gets right and the other wrong ("fixed" and "broken" going from ``old`` to
    ``new``), for the rules alone and for the whole detector. Both must share one model and differ only in their rule
    files: then only the items whose rules reading differs are run through the learned stages (``full``: every item,
    a check of that shortcut)."""
    dialogues = [[*(item.get("history") or []), item["text"]] for item in items]
    langs = [item["lang"] for item in items]
    todo = range(len(items)) if full else differing_readings(dialogues, langs, old, new)
    chosen = [items[i] for i in todo]
    rules_old = [old.rules_reading(item["text"], item["lang"])[0] is not None for item in chosen]
    rules_new = [new.rules_reading(item["text"], item["lang"])[0] is not None for item in chosen]

    def changes(before: list[bool], after: list[bool]) -> dict[str, list[dict]]:
        rows = [(item, a) for item, b, a in zip(chosen, before, after) if a != b]
        return {"fixed": [_changed(item) for item, a in rows if a == item["crisis"]],
                "broken": [_changed(item) for item, a in rows if a != item["crisis"]]}

    report = {"items": len(items), "read_differently": None if full else len(todo),
              "rules": changes(rules_old, rules_new), "detector": None}
    if old.model is not None and new.model is not None:
        report["detector"] = changes([r.crisis for r in check_items(chosen, old)[0]],
                                     [r.crisis for r in check_items(chosen, new)[0]])
    return report


def compare_flags(dialogues: list[list[str]], langs: list[str], old: SafetyChecker, new: SafetyChecker,
                  full: bool = False) -> dict[str, Any]:
    """Unlabelled conversations (ESConv seeker turns, opening disclosures) checked turn by turn as the app does: the
    turns ``new`` flags and ``old`` does not ("added"), and the reverse ("removed"), read alone (rules and the message
    itself) and in conversation (also the conversation-level and follow-up checks)."""
    todo = range(len(dialogues)) if full else differing_readings(dialogues, langs, old, new)
    chosen = [dialogues[d] for d in todo]
    before = [r for row in old.check_dialogues(chosen, [langs[d] for d in todo]) for r in row]
    after = [r for row in new.check_dialogues(chosen, [langs[d] for d in todo]) for r in row]
    turns = [turn for turns in chosen for turn in turns]

    def alone(result: SafetyResult) -> bool:
        return result.crisis and not {CONVERSATION_RULE_ID, FOLLOWUP_RULE_ID} & set(result.matched)

    def changes(flagged) -> dict[str, list[str]]:
        return {"added": [t for t, b, a in zip(turns, before, after) if flagged(a) and not flagged(b)],
                "removed": [t for t, b, a in zip(turns, before, after) if flagged(b) and not flagged(a)]}

    return {"dialogues": len(dialogues), "turns": sum(map(len, dialogues)),
            "read_differently": None if full else len(todo),
            "alone": changes(alone), "in_conversation": changes(lambda r: r.crisis)}


def _changed(item: dict) -> dict[str, Any]:
    return {key: item[key] for key in ("file", "line", "lang", "crisis", "category", "text", "note") if key in item}
