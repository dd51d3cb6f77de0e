"""Train the follow-up stage of the crisis detector and write ``empath/data/safety_followup_model/``.

    python -m training.train_safety_followup [--out empath/data/safety_followup_model] [--threshold T]
                                             [--dev training/data/safety/safety_followups_dev.jsonl]
                                             [--max-mined 2000] [--seed 0]

Once a conversation had a flagged turn, the seeker's next words often carry the risk alone, with no risk
word ("he's here", "it's tonight", "getting sleepy"), while the window the conversation check reads is dominated by
the earlier disclosure, so "thanks" and "ok" score as high as "he's here". This stage is trained only on such
next messages: ``training/data/safety/safety_followups_train*.jsonl`` (written for training: each item's ``history``
holds a crisis disclosure the bot already answered; ``crisis`` says whether the new message needs a safety reply
again: present danger, a plan, a time, an attempt, a farewell; or not: thanks, safe now, means handed over, another
topic), and ``--max-mined`` ordinary seeker turns per language mined as ``training.train_safety`` mines them
(everyday talk after a false flag is no crisis either). It reads the new message as the main classifier does (``SafetyChecker.model_input``; the previous turn
beside it made the stage worse on the development set: every window then holds a disclosure), with the same
features and model as ``training.train_safety`` (n-gram TF-IDF + sentence embeddings, logistic regression mixed
with perceptrons); it only ever adds flags, and only after a flagged turn.
Threshold: unless ``--threshold`` is given, the one with the best balanced accuracy (recall + 1 - FPR) on ``--dev``
(``safety_followups_dev.jsonl``, never trained on); ``safety_followups_heldout.jsonl`` is for measuring only
(``python -m training.evaluate_safety --file training/data/safety/safety_followups_heldout.jsonl``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from empath._data import repo_relative
from empath.safety import SafetyChecker
from empath.safety_evaluation import load_labelled_set
from empath.safety_model import DEFAULT_FOLLOWUP_MODEL_DIR
from training.train_safety import (ENCODERS, SAFETY_DATA, crisis_probability, embeddings, feature_config, fit, fit_mlp,
                                   mined_negatives, save_fitted)

TRAIN_FILES = tuple(sorted(SAFETY_DATA.glob("safety_followups_train*.jsonl")))
DEV_FILE = SAFETY_DATA / "safety_followups_dev.jsonl"


def with_model_input(items: list[dict], checker: SafetyChecker) -> list[dict]:
    """``items`` with ``model_input`` set to what the follow-up stage reads: the message as the checker reads it."""
    for item in items:
        item["model_input"] = checker.model_input(item["text"], item["lang"])
    return items


def followup_items(paths, checker: SafetyChecker) -> list[dict]:
    """The labelled follow-ups of ``paths``, ready for training or scoring."""
    return with_model_input([item for path in paths for item in load_labelled_set(path)], checker)


def _relative(path) -> str:
    """``path`` relative to the repository when inside it, else its name (no machine's absolute path in a shipped
    config)."""
    return str(repo_relative(path) or Path(path).resolve().name)


def balanced_threshold(gold: np.ndarray, scores: np.ndarray) -> tuple[float, dict]:
    """The threshold with the highest recall + (1 - FPR) on ``gold``; ties go to the higher recall."""
    best = None
    for threshold in np.round(np.arange(0.05, 0.96, 0.01), 2):
        flagged = scores >= threshold
        recall, fpr = float(flagged[gold].mean()), float(flagged[~gold].mean())
        key = (round(recall - fpr, 6), recall)
        if best is None or key > best[0]:
            best = (key, {"threshold": float(threshold), "recall": round(recall, 4), "fpr": round(fpr, 4)})
    return best[1]["threshold"], best[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(DEFAULT_FOLLOWUP_MODEL_DIR))
    parser.add_argument("--dev", default=str(DEV_FILE), help="labelled follow-ups to choose the threshold on")
    parser.add_argument("--threshold", type=float, default=None,
                        help="crisis threshold of the follow-up stage (default: chosen on --dev)")
    parser.add_argument("--max-mined", type=int, default=2000, help="mined ordinary seeker turns per language")
    parser.add_argument("--curated-weight", type=float, default=3.0, help="sample weight of a written item")
    parser.add_argument("--c", type=float, default=3.0, help="inverse L2 strength of the logistic regression")
    parser.add_argument("--max-features", type=int, default=30000)
    parser.add_argument("--mlp-members", type=int, default=3, help="perceptrons in the ensemble (0: regression only)")
    parser.add_argument("--mlp-hidden", type=int, default=256)
    parser.add_argument("--mlp-alpha", type=float, default=1e-3)
    parser.add_argument("--mlp-epochs", type=int, default=60)
    parser.add_argument("--mlp-weight", type=float, default=0.5, help="share of the perceptrons in the probability")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not TRAIN_FILES:
        raise SystemExit(f"no {SAFETY_DATA}/safety_followups_train*.jsonl files")
    checker = SafetyChecker(use_model=False)  # rules only: model_input needs the normalisation and masks
    mined = with_model_input(mined_negatives(checker, args.max_mined, args.seed), checker)  # everyday talk: no crisis
    items = followup_items(TRAIN_FILES, checker) + mined
    dev = followup_items([args.dev], checker)
    config = feature_config()
    dense = embeddings(items, ENCODERS)
    vectorizer, classifier = fit(items, dense, config, args)
    mlp = fit_mlp(items, dense, args)
    dev_scores = crisis_probability(vectorizer, classifier, dev, embeddings(dev, ENCODERS), mlp, args.mlp_weight)
    gold = np.array([it["crisis"] for it in dev])
    chosen, stats = balanced_threshold(gold, dev_scores)
    threshold = chosen if args.threshold is None else args.threshold
    flagged = dev_scores >= threshold
    report = {"dev": {"file": _relative(args.dev), "threshold": threshold, "recall": round(float(flagged[gold].mean()), 4),
                      "fpr": round(float(flagged[~gold].mean()), 4), "best_balanced": stats}}
    print(json.dumps(report, ensure_ascii=False), file=sys.stderr)
    info = {"training": {"items": len(items), "crisis": int(sum(it["crisis"] for it in items)),
                         "mined_negatives": len(mined), "max_mined": args.max_mined,
                         "curated_weight": args.curated_weight,
                         "files": [p.name for p in TRAIN_FILES], "seed": args.seed, "c": args.c,
                         "mlp_alpha": args.mlp_alpha, "mlp_epochs": args.mlp_epochs}, **report}
    save_fitted(args.out, config, vectorizer, classifier, threshold, ENCODERS, info, mlp, args.mlp_weight)
    return 0


if __name__ == "__main__":
    sys.exit(main())
