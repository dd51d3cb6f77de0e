"""Measure role matching and strategy prediction on a labelled dialogue file, like the paper's Table 4.

    python -m training.evaluate_classifiers --data ../shared/data/esconv/valid.jsonl --format esconv
    python -m training.evaluate_classifiers --data tests/fixtures/psyqa_zh_roles.json --format psyqa --no-keywords --json

Role matching is scored once per distinct background (question, description, keywords) against its gold
role (ESConv: problem_type -> topic -> persona; PsyQA: the topic named by the first keyword). Strategy
prediction is scored on every supporter turn that carries a strategy, given all turns before it; it is
``null`` in the JSON when the data has no such turns. ``--no-keywords`` drops keywords from every input
(PsyQA keywords name the topic outright). With ``--json`` the last printed line is one JSON object
``{"role": {...}, "strategy": {...} | null, ...}`` whose task entries hold ``n``, ``accuracy``,
``weighted_f1`` and ``per_class`` (precision, recall, f1, support per label).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from typing import Sequence

import numpy as np

from empath.dialogue import read_dialogues

FORMATS = ("esconv", "psyqa", "jsonl", "multiturn", "auto")


def classification_metrics(gold: Sequence[str], pred: Sequence[str], label_order: Sequence[str] = ()) -> dict:
    """Accuracy, weighted F1 and per-class precision/recall/F1/support (sklearn.metrics).

    Classes are those occurring in gold or predictions, in ``label_order`` first; weighted F1 weighs
    each class by its gold support (a predicted-only class adds false positives, weight 0).
    """
    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold labels but {len(pred)} predictions")
    if not gold:
        raise ValueError("nothing to evaluate: no labelled examples")
    present = set(gold) | set(pred)
    labels = [x for x in label_order if x in present] + sorted(present - set(label_order))
    p, r, f, s = precision_recall_fscore_support(gold, pred, labels=labels, zero_division=0)
    return {
        "n": len(gold),
        "accuracy": float(accuracy_score(gold, pred)),
        "weighted_f1": float(f1_score(gold, pred, labels=labels, average="weighted", zero_division=0)),
        "macro_f1": float(np.mean(f)),  # unweighted mean over the classes in gold or predictions
        "per_class": {lab: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
                      for i, lab in enumerate(labels)},
    }


def top_k_accuracy(gold: Sequence[str], probs: Sequence[dict[str, float]], k: int = 3) -> float:
    """Share of examples whose gold label is among the ``k`` most probable (ties broken by label order)."""
    hits = [g in sorted(p, key=lambda label: -p[label])[:k] for g, p in zip(gold, probs)]
    return float(np.mean(hits)) if hits else 0.0


def role_cases(dialogues, use_keywords: bool = True):
    """Distinct (background, gold role) pairs; backgrounds without a gold role or any text are skipped."""
    from empath.classifiers import role_text

    seen, cases = set(), []
    for d in dialogues:
        bg = d.background if use_keywords else replace(d.background, keywords=[])
        key = (bg.question, bg.description, tuple(bg.keywords))
        if bg.role and role_text(bg) and key not in seen:
            seen.add(key)
            cases.append((bg, bg.role))
    return cases


def strategy_cases(dialogues, use_keywords: bool = True):
    cases = []
    for d in dialogues:
        bg = d.background if use_keywords else replace(d.background, keywords=[])
        for context, target in d.supporter_targets():
            if target.strategy:
                cases.append(((bg, list(context)), target.strategy))
    return cases


def evaluate(dialogues, matcher, predictor, use_keywords: bool = True, progress: bool = False,
             records: list | None = None) -> dict:
    """Table 4 numbers for both tasks; ``records`` (a list) receives one dict per scored example
    (task, gold, predicted, probabilities) for error analysis or ensembling."""
    from empath.strategies import STRATEGY_NAMES

    result: dict = {"role": None, "strategy": None}
    roles = role_cases(dialogues, use_keywords) if matcher is not None else []
    if roles:
        preds = matcher.predict_batch([bg for bg, _ in roles], use_keywords=use_keywords)
        result["role"] = classification_metrics([g for _, g in roles], [p.role for p in preds], matcher.roles.ids)
        result["role"]["lang"] = sorted({p.lang for p in preds})
        if records is not None:
            records.extend({"task": "role", "gold": g, "pred": p.role, "probs": p.probs} for (_, g), p in zip(roles, preds))
    strategies = strategy_cases(dialogues, use_keywords) if predictor is not None else []
    if strategies:
        preds = predictor.predict_batch([x for x, _ in strategies], progress=progress)
        result["strategy"] = classification_metrics([g for _, g in strategies], [p.strategy for p in preds], STRATEGY_NAMES)
        result["strategy"]["top3"] = top_k_accuracy([g for _, g in strategies], [p.probs for p in preds], 3)
        if records is not None:
            records.extend({"task": "strategy", "gold": g, "pred": p.strategy, "probs": p.probs}
                           for (_, g), p in zip(strategies, preds))
    return result


def format_table(name: str, metrics: dict, names: dict[str, str] | None = None) -> str:
    names = names or {}
    width = max([len(names.get(k, k)) for k in metrics["per_class"]] + [14])
    lines = [f"{name} (n={metrics['n']}, accuracy {100 * metrics['accuracy']:.2f}%)",
             f"  {'Category':<{width}}  {'Prec.':>6}  {'Recall':>6}  {'F1':>6}  {'Support':>7}"]
    for label, m in metrics["per_class"].items():
        lines.append(f"  {names.get(label, label):<{width}}  {100 * m['precision']:6.2f}  {100 * m['recall']:6.2f}  "
                     f"{100 * m['f1']:6.2f}  {m['support']:7d}")
    lines.append(f"  {'Weighted F1':<{width}}  {'':>6}  {'':>6}  {100 * metrics['weighted_f1']:6.2f}")
    lines.append(f"  {'Macro F1':<{width}}  {'':>6}  {'':>6}  {100 * metrics['macro_f1']:6.2f}")
    if "top3" in metrics:
        lines.append(f"  {'Top-3 accuracy':<{width}}  {'':>6}  {'':>6}  {100 * metrics['top3']:6.2f}")
    return "\n".join(lines)


def _use_embedding_cache(matcher, predictor) -> list:
    from empath.classifiers import register_encoder
    from training.train_classifiers import embedding_cache

    scorers = [*(matcher.scorers.values() if matcher else ()), *(predictor.scorers.values() if predictor else ())]
    names = {getattr(s, "encoder_name", None) for s in scorers}
    return [register_encoder(embedding_cache(n)) for n in sorted(n for n in names if n)]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="labelled dialogue file")
    p.add_argument("--format", choices=FORMATS, default="auto")
    p.add_argument("--classifiers", default=None, help="classifier folder or Hub id@rev (default: shipped weights)")
    p.add_argument("--no-keywords", action="store_true", help="drop keywords from every input")
    p.add_argument("--json", action="store_true", help="end with one JSON line of all numbers")
    p.add_argument("--no-fallback", action="store_true",
                   help="score only the roles the head was trained on (no topic-similarity fallback)")
    p.add_argument("--tasks", nargs="+", choices=("role", "strategy"), default=["role", "strategy"],
                   help="evaluate only these (a folder may hold one classifier)")
    p.add_argument("--predictions", help="also write one JSON line per scored example (task, gold, pred, probs) here")
    p.add_argument("--no-progress", dest="progress", action="store_false")
    p.add_argument("--embedding-cache", action="store_true",
                   help="reuse/extend the training embedding cache under $EMPATH_CACHE/embeddings (faster reruns)")
    args = p.parse_args(argv)

    from empath.classifiers import RoleMatcher, StrategyPredictor

    dialogues = read_dialogues(args.data, format=args.format)
    matcher = RoleMatcher.load(args.classifiers, fallback=not args.no_fallback) if "role" in args.tasks else None
    predictor = StrategyPredictor.load(args.classifiers) if "strategy" in args.tasks else None
    caches = _use_embedding_cache(matcher, predictor) if args.embedding_cache else []
    records: list | None = [] if args.predictions else None
    result = evaluate(dialogues, matcher, predictor, use_keywords=not args.no_keywords, progress=args.progress,
                      records=records)
    if records is not None:
        with open(args.predictions, "w", encoding="utf-8") as f:
            f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    for cache in caches:
        cache.save()
    if result["role"] is None and result["strategy"] is None:
        print(f"{args.data}: no labelled roles or strategies to evaluate", file=sys.stderr)
        return 1
    result.update({"data": args.data, "format": args.format, "keywords": not args.no_keywords,
                   "classifiers": args.classifiers or "default", "fallback": not args.no_fallback})
    role_names = {r.id: r.name_en for r in matcher.roles} if matcher else {}
    if result["role"] is not None:
        print(format_table("Role matching", result["role"], role_names))
    elif matcher is not None:
        print("Role matching: no backgrounds with a gold role")
    if result["strategy"] is not None:
        print(format_table("Strategy prediction", result["strategy"]))
    elif predictor is not None:
        print("Strategy prediction: the data has no strategy-labelled supporter turns")
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
