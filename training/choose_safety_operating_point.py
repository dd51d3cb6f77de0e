"""Choose the crisis model's operating point: the perceptrons' share of its crisis probability and the threshold.

    python -m training.choose_safety_operating_point [--files F[=RULES.yaml] ...] [--model DIR] [--weights 0,0.25,...]
                                                     [--thresholds 0.60,0.62,...] [--min-recall 0.90] [--json]

Every (share, threshold) pair is measured with the whole detector (rules, learned stage, conversation and follow-up
checks) on the pooled ``--files``: by default the held-out sets 2-11, which earlier rounds have already measured,
so choosing on them spends nothing fresh (the newest set stays out; the first is the issue's "current" set, quoted
on its own). A file given as ``FILE=RULES.yaml`` is read with those rules (say, the rules it was first measured with,
so that rules written from its misses later do not flatter it); the others with the shipped rules. Rule: the lowest
pooled false-positive rate among the pairs whose pooled recall reaches ``--min-recall`` (the issue's recall target),
ties to the higher recall. It prints the grid and the choice;
``train_safety --mlp-weight W --threshold T`` ships it. The head probabilities are computed once per message, so
the grid costs one scoring pass plus the rules per pair (about 20 minutes on 2 cores for the default grid).
"""

from __future__ import annotations

import argparse
import json
import sys

from empath._data import REPO_ROOT
from empath.safety import SafetyChecker
from empath.safety_evaluation import choose_operating_point, load_labelled_set, pooled_operating_points

SAFETY_DATA = REPO_ROOT / "training" / "data" / "safety"
DEVELOPMENT_SETS = [SAFETY_DATA / f"safety_heldout{n}.jsonl" for n in range(2, 12)]


def floats(text: str) -> list[float]:
    """``"0.5,0.75"`` -> [0.5, 0.75]."""
    return [float(value) for value in text.split(",") if value.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.choose_safety_operating_point", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", nargs="+", default=[str(p) for p in DEVELOPMENT_SETS])
    parser.add_argument("--model", help="a trained model folder (default: the shipped one)")
    parser.add_argument("--weights", type=floats, default=floats("0,0.25,0.35,0.5,0.75"))
    parser.add_argument("--encoder-weights", type=floats,
                        help="encoder-head shares to try, e.g. 0,0.5,0.7 (default: the model's own)")
    parser.add_argument("--thresholds", type=floats,
                        default=floats("0.6,0.62,0.64,0.66,0.68,0.7,0.72,0.74,0.76,0.78,0.8"))
    parser.add_argument("--min-recall", type=float, default=0.90)
    parser.add_argument("--json", action="store_true", help="print one JSON object: the grid and the choice")
    args = parser.parse_args(argv)

    by_rules: dict[str | None, list[dict]] = {}  # FILE=RULES: that set read with the rules it was measured with
    for entry in args.files:
        path, _, rules = entry.partition("=")
        by_rules.setdefault(rules or None, []).extend(load_labelled_set(path))
    groups = [(group, SafetyChecker(rules, model_dir=args.model)) for rules, group in by_rules.items()]
    items = sum(len(group) for group in by_rules.values())
    points = pooled_operating_points(groups, args.weights, args.thresholds, args.encoder_weights)
    chosen = choose_operating_point(points, args.min_recall)
    if args.json:
        print(json.dumps({"files": args.files, "items": items, "min_recall": args.min_recall,
                          "points": points, "chosen": chosen}, ensure_ascii=False))
    else:
        print(f"{items} items from {len(args.files)} files; pooled recall / FPR (en, zh)")
        for p in points:
            by_lang = "  ".join(f"{lang} {v['recall']:.3f}/{v['fpr']:.3f}" for lang, v in p["by_lang"].items())
            print(f"share {p['mlp_weight']:.2f}  head {p['encoder_weight']:.2f}  threshold {p['threshold']:.2f}:  "
                  f"{p['recall']:.3f} / {p['fpr']:.3f}   ({by_lang})")
        print("chosen:", "none reaches the recall" if chosen is None else
              f"share {chosen['mlp_weight']}, head {chosen['encoder_weight']}, threshold {chosen['threshold']} "
              f"(recall {chosen['recall']:.3f}, FPR {chosen['fpr']:.3f})")
    return 0 if chosen is not None else 1


if __name__ == "__main__":
    sys.exit(main())
