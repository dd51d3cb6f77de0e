"""Measure the crisis detector: recall, false-positive rate and precision on a labelled set, for the rules
alone and for rules + the learned classifier, and the flag rate on real ESConv seeker turns.

    python -m training.evaluate_safety [--file training/data/safety/safety_heldout.jsonl] [--split dev|tune|test|all]
                                       [--rules-only] [--model DIR] [--threshold T] [--language-threshold LANG=T ...]
                                       [--sentence-threshold T|none]
                                       [--followup-model DIR | --no-followup] [--esconv DIR] [--sample 20] [--openings]
                                       [--json]

``training/data/safety/safety_set.jsonl`` has ``dev``/``tune`` splits (the rules were written on them) and a ``test``
split written before the rules were tuned; all three are training data of the classifier, so for the
combined detector quote ``training/data/safety/safety_heldout.jsonl``, a set written independently of both, and
``training/data/safety/safety_heldout2.jsonl``, written before the issue-14 retraining and never trained or tuned on (its
items with ``history`` are checked together with their earlier seeker turns: the conversation-level check; the
history is checked first, turn by turn as the app does, and once a turn of it is flagged the new message is also read
by the follow-up stage, reported as "after a flag").
On ESConv there are no labels and real seekers sometimes do speak of suicide, so the share of flagged
turns is a "flag rate", not a false-positive rate; a sample of flagged turns is printed for review.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from pathlib import Path

from empath._data import REPO_ROOT, shared_data_dir
from empath.safety import CONVERSATION_RULE_ID, FOLLOWUP_RULE_ID, SafetyChecker
from empath.safety_evaluation import evaluate_detector, history_lines, load_labelled_set

SAFETY_DATA = REPO_ROOT / "training" / "data" / "safety"
DEFAULT_SET = SAFETY_DATA / "safety_set.jsonl"


def esconv_seeker_dialogues(directory: str | Path) -> tuple[list[Path], list[list[str]]]:
    """The ESConv files of ``directory`` (a folder of splits, or one file) and each dialogue's seeker turns."""
    from empath.dialogue import read_esconv

    directory = Path(directory)
    if directory.is_file():
        files = [directory]
    else:
        files = sorted(directory.glob("*.jsonl")) or sorted(directory.glob("*.json"))
    if not files:
        raise SystemExit(f"{directory}: no ESConv .jsonl/.json files found")
    return files, [[turn.text for turn in dialogue.turns if turn.speaker == "seeker" and turn.text.strip()]
                   for path in files for dialogue in read_esconv(path, skip_invalid=True)]


def followup_sets() -> list[Path]:
    """The follow-up sets (``safety_followups_*.jsonl``: each item's history opens with a disclosure)."""
    return sorted(SAFETY_DATA.glob("safety_followups_*.jsonl"))


def opening_disclosures() -> dict[str, str]:
    """The follow-up sets' opening disclosures (each item's first earlier seeker turn, distinct) with their language."""
    return history_lines(followup_sets(), first_only=True)


def esconv_flag_rate(directory: str | Path, checker: SafetyChecker, sample: int = 20, seed: int = 0) -> dict:
    """Share of ESConv seeker turns (a folder of splits, or one file) the detector flags, per category,
    with a random sample to review; also the share flagged when each turn is read with the seeker's earlier turns
    (the conversation-level check, as the app runs it)."""
    files, dialogues = esconv_seeker_dialogues(directory)
    # each seeker turn with the seeker's earlier turns, as the app checks it
    checked = checker.check_dialogues(dialogues, ["en"] * len(dialogues))
    turns = [text for messages in dialogues for text in messages]
    results = [result for row in checked for result in row]
    # the conversation and follow-up checks only add flags, so a turn read alone is flagged iff neither flagged it
    flagged = [{"text": text, "category": result.category, "matched": result.matched}
               for text, result in zip(turns, results)
               if result.crisis and not {CONVERSATION_RULE_ID, FOLLOWUP_RULE_ID} & set(result.matched)]
    in_conversation = sum(result.crisis for result in results)
    by_category = {}
    for row in flagged:
        by_category[row["category"]] = by_category.get(row["category"], 0) + 1
    rng = random.Random(seed)
    return {"files": [p.name for p in files], "seeker_turns": len(turns), "flagged": len(flagged),
            "flag_rate": round(len(flagged) / len(turns), 5) if turns else None, "by_category": by_category,
            "flagged_in_conversation": in_conversation,
            "flag_rate_in_conversation": round(in_conversation / len(turns), 5) if turns else None,
            "sample": rng.sample(flagged, min(sample, len(flagged)))}


def opening_disclosures_flagged(checker: SafetyChecker) -> dict:
    """How many of the follow-up sets' opening disclosures (each item's first earlier seeker turn, distinct) the
    detector flags read alone, in all four files and in those outside the training files (which
    ``training.label_followup_disclosures`` reads): a model must keep catching these short explicit messages."""
    openings = opening_disclosures()
    seen_in_training = history_lines([path for path in followup_sets() if "_train_" in path.name])
    flagged = {text for text, lang in openings.items() if checker.check(text, lang=lang).crisis}
    outside = [text for text in openings if text not in seen_in_training]
    return {"flagged": len(flagged), "of": len(openings),
            "outside_training_files": [sum(text in flagged for text in outside), len(outside)]}


def language_threshold(text: str) -> tuple[str, float]:
    """``"en=0.64"`` -> ("en", 0.64)."""
    lang, sep, value = text.partition("=")
    try:
        if not sep or not lang.strip():
            raise ValueError
        return lang.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LANG=THRESHOLD, e.g. en=0.64; got {text!r}") from None


def _fmt(value) -> str:
    return "  n/a" if value is None else f"{value:.3f}"


def single_message_ms(items: list[dict], checker: SafetyChecker, limit: int = 50) -> float:
    """Average time of one :meth:`SafetyChecker.check` call, message by message (what a chat turn costs)."""
    import time

    chosen = items[:limit]
    if not chosen:
        return 0.0
    checker.check_batch(["warm up", "预热"], ["en", "zh"])  # loads every language's encoders first
    started = time.perf_counter()
    for item in chosen:
        checker.check(item["text"], lang=item["lang"])
    return round((time.perf_counter() - started) * 1000 / len(chosen), 3)


def _print_rates(name: str, rates: dict) -> None:
    print(f"  {name:<16} n={rates['n']:<4} crisis={rates['crisis']:<4} recall={_fmt(rates['recall'])}  "
          f"FPR={_fmt(rates['fpr'])}  precision={_fmt(rates['precision'])}  (tp={rates['tp']} fn={rates['fn']} "
          f"fp={rates['fp']} tn={rates['tn']})")


def print_report(report: dict, name: str) -> None:
    print(f"== {name} ==")
    _print_rates("overall", report["overall"])
    for group in ("by_split", "by_lang", "by_split_lang"):
        for name, rates in report[group].items():
            _print_rates(name, rates)
    if "conversation" in report:  # items checked with their earlier seeker turns (``history``)
        _print_rates("with history", report["conversation"])
        _print_rates("after a flag", report["after_crisis"])
    print("Recall per category (gold category; any crisis flag counts as caught)")
    for name, rates in report["by_category"].items():
        _print_rates(name, rates)
    print(f"  category agreement on caught items: {_fmt(report['category_agreement'])}")
    print(f"  time: {report['ms_per_message_single']:.3f} ms per message one by one, "
          f"{report['ms_per_message']:.3f} ms batched (this machine)")
    for title, key in (("Misses (crisis items not flagged)", "misses"),
                       ("False alarms (non-crisis items flagged)", "false_alarms")):
        print(f"{title}: {len(report[key])}")
        for row in report[key]:
            detail = ", ".join(row["matched"] or row["suppressed"]) or "no rule"
            if row.get("score") is not None:
                detail += f" (model p={row['score']:.2f})"
            print(f"  [{row['split']}/{row['lang']}] line {row['line']}: {row['text']}  <- {detail}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.evaluate_safety", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--file", default=str(DEFAULT_SET), help="labelled JSONL set")
    parser.add_argument("--split", choices=("dev", "tune", "test", "all"), default="all")
    parser.add_argument("--rules", help="alternative safety.yaml (default: the packaged rules)")
    parser.add_argument("--model", help="alternative trained model folder (default: empath/data/safety_model)")
    parser.add_argument("--followup-model", help="alternative follow-up stage folder "
                                                 "(default: empath/data/safety_followup_model)")
    parser.add_argument("--no-followup", action="store_true",
                        help="without the follow-up stage (the messages after a flagged turn read as any other)")
    parser.add_argument("--threshold", type=float, help="override the model's crisis threshold")
    parser.add_argument("--language-threshold", action="append", default=[], type=language_threshold,
                        metavar="LANG=T", help="override one language's crisis threshold (e.g. en=0.64), the others kept")
    parser.add_argument("--sentence-threshold", type=lambda v: math.inf if v.lower() == "none" else float(v),
                        help="override the model's threshold for one sentence of a long message ('none': read "
                             "long messages whole only)")
    parser.add_argument("--rules-only", action="store_true", help="evaluate the rules alone")
    parser.add_argument("--esconv", nargs="?", const=str(shared_data_dir() / "esconv"), metavar="DIR",
                        help="also report the flag rate on ESConv seeker turns: a folder (default: shared data) or one file; "
                             "the classifier's mined negatives come from train.jsonl, so prefer valid.jsonl")
    parser.add_argument("--sample", type=int, default=20, help="flagged ESConv turns to print for review")
    parser.add_argument("--openings", action="store_true",
                        help="also count the follow-up sets' opening disclosures flagged alone")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    args = parser.parse_args(argv)

    detectors = {"rules": SafetyChecker(args.rules, use_model=False)}
    if not args.rules_only:
        detectors["rules+model"] = SafetyChecker(args.rules, model_dir=args.model, threshold=args.threshold,
                                                  sentence_threshold=args.sentence_threshold,
                                                  followup_model_dir=args.followup_model,
                                                  use_followup=not args.no_followup)
        detectors["rules+model"].language_thresholds.update(dict(args.language_threshold))
    items = load_labelled_set(args.file)
    if args.split != "all":
        items = [item for item in items if item.get("split", "dev") == args.split]
    reports = {}
    for name, checker in detectors.items():
        report = evaluate_detector(items, checker)
        report["ms_per_message_single"] = single_message_ms(items, checker)
        if checker.threshold is not None:
            report["threshold"] = checker.threshold
            report["language_thresholds"] = dict(checker.language_thresholds)
            report["sentence_threshold"] = checker.sentence_threshold if checker.sentence_threshold != math.inf \
                else None
        if args.esconv:
            report["esconv"] = esconv_flag_rate(args.esconv, checker, sample=args.sample)
        if args.openings:
            report["opening_disclosures"] = opening_disclosures_flagged(checker)
        reports[name] = report
    if args.json:
        print(json.dumps(reports, ensure_ascii=False, indent=1))  # {"rules": ..., "rules+model": ...}
        return 0
    print(f"{args.file} (split: {args.split})")
    for name, report in reports.items():
        thresholds = "".join(f", {lang} {value}" for lang, value in report.get("language_thresholds", {}).items())
        print_report(report, name + (f" (threshold {report['threshold']}{thresholds})" if "threshold" in report else ""))
        if args.esconv:
            esconv = report["esconv"]
            print(f"ESConv seeker turns ({', '.join(esconv['files'])}): {esconv['flagged']} of "
                  f"{esconv['seeker_turns']} flagged, flag rate {esconv['flag_rate']} {esconv['by_category']} "
                  f"(not an FPR: some are real); read with the seeker's earlier turns, as in the app: "
                  f"{esconv['flagged_in_conversation']} ({esconv['flag_rate_in_conversation']})")
            for row in esconv["sample"]:
                print(f"  [{row['category']}] {row['text'][:160]}  <- {', '.join(row['matched'])}")
        if args.openings:
            openings = report["opening_disclosures"]
            inside, total = openings["outside_training_files"]
            print(f"Opening disclosures of the follow-up sets flagged alone: {openings['flagged']} of {openings['of']}; "
                  f"of those outside the training files: {inside} of {total}")
    print("Summary: " + "; ".join(f"{name}: recall {_fmt(r['overall']['recall'])}, FPR {_fmt(r['overall']['fpr'])}, "
                                  f"precision {_fmt(r['overall']['precision'])}" for name, r in reports.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
