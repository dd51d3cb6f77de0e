"""Measure the crisis detector: recall, false-positive rate and precision on the labelled set, and the
flag rate on real ESConv seeker turns.

    python -m training.evaluate_safety [--file evaluation/safety_set.jsonl] [--split dev|tune|test|all]
                                       [--esconv DIR] [--sample 20] [--json]

The labelled set has a ``dev`` split (used while writing the rules) and a ``test`` split that was
written before the rules were tuned and is reported separately: quote the test numbers.
On ESConv there are no labels and real seekers sometimes do speak of suicide, so the share of flagged
turns is a "flag rate", not a false-positive rate; a sample of flagged turns is printed for review.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

from empath._data import REPO_ROOT, shared_data_dir
from empath.safety import SafetyChecker, evaluate_detector, load_labelled_set

DEFAULT_SET = REPO_ROOT / "evaluation" / "safety_set.jsonl"


def esconv_flag_rate(directory: str | Path, checker: SafetyChecker, sample: int = 20, seed: int = 0) -> dict:
    """Share of ESConv seeker turns the detector flags, per category, with a random sample to review."""
    from empath.dialogue import read_esconv

    directory = Path(directory)
    files = sorted(directory.glob("*.jsonl")) or sorted(directory.glob("*.json"))
    if not files:
        raise SystemExit(f"{directory}: no ESConv .jsonl/.json files found")
    turns = [turn.text for path in files for dialogue in read_esconv(path, skip_invalid=True)
             for turn in dialogue.turns if turn.speaker == "seeker" and turn.text.strip()]
    flagged = []
    for text in turns:
        result = checker.check(text, lang="en")
        if result.crisis:
            flagged.append({"text": text, "category": result.category, "matched": result.matched})
    by_category = {}
    for row in flagged:
        by_category[row["category"]] = by_category.get(row["category"], 0) + 1
    rng = random.Random(seed)
    return {"files": [p.name for p in files], "seeker_turns": len(turns), "flagged": len(flagged),
            "flag_rate": round(len(flagged) / len(turns), 5) if turns else None, "by_category": by_category,
            "sample": rng.sample(flagged, min(sample, len(flagged)))}


def _fmt(value) -> str:
    return "  n/a" if value is None else f"{value:.3f}"


def _print_rates(name: str, rates: dict) -> None:
    print(f"  {name:<16} n={rates['n']:<4} crisis={rates['crisis']:<4} recall={_fmt(rates['recall'])}  "
          f"FPR={_fmt(rates['fpr'])}  precision={_fmt(rates['precision'])}  (tp={rates['tp']} fn={rates['fn']} "
          f"fp={rates['fp']} tn={rates['tn']})")


def print_report(report: dict) -> None:
    print("Crisis detector on the labelled set")
    _print_rates("overall", report["overall"])
    for group in ("by_split", "by_lang", "by_split_lang"):
        for name, rates in report[group].items():
            _print_rates(name, rates)
    print("Recall per category (gold category; any crisis flag counts as caught)")
    for name, rates in report["by_category"].items():
        _print_rates(name, rates)
    print(f"  category agreement on caught items: {_fmt(report['category_agreement'])}")
    print(f"  time: {report['ms_per_message']:.3f} ms per message (rules only, this machine)")
    for title, key in (("Misses (crisis items not flagged)", "misses"),
                       ("False alarms (non-crisis items flagged)", "false_alarms")):
        print(f"{title}: {len(report[key])}")
        for row in report[key]:
            detail = ", ".join(row["matched"] or row["suppressed"]) or "no rule"
            print(f"  [{row['split']}/{row['lang']}] line {row['line']}: {row['text']}  <- {detail}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.evaluate_safety", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--file", default=str(DEFAULT_SET), help="labelled JSONL set")
    parser.add_argument("--split", choices=("dev", "tune", "test", "all"), default="all")
    parser.add_argument("--rules", help="alternative safety.yaml (default: the packaged rules)")
    parser.add_argument("--esconv", nargs="?", const=str(shared_data_dir() / "esconv"), metavar="DIR",
                        help="also report the flag rate on ESConv seeker turns (default DIR: shared data)")
    parser.add_argument("--sample", type=int, default=20, help="flagged ESConv turns to print for review")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    args = parser.parse_args(argv)

    checker = SafetyChecker(args.rules)
    items = load_labelled_set(args.file)
    if args.split != "all":
        items = [item for item in items if item.get("split", "dev") == args.split]
    report = evaluate_detector(items, checker)
    if args.esconv:
        report["esconv"] = esconv_flag_rate(args.esconv, checker, sample=args.sample)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
        return 0
    print(f"{args.file} (split: {args.split})")
    print_report(report)
    if args.esconv:
        esconv = report["esconv"]
        print(f"ESConv seeker turns ({', '.join(esconv['files'])}): {esconv['flagged']} of {esconv['seeker_turns']} "
              f"flagged, flag rate {esconv['flag_rate']} {esconv['by_category']} (not an FPR: some are real)")
        for row in esconv["sample"]:
            print(f"  [{row['category']}] {row['text'][:160]}  <- {', '.join(row['matched'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
