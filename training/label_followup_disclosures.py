"""Label the earlier seeker turns of the follow-up training files with a detector, as extra crisis positives.

    python -m training.label_followup_disclosures [--out training/data/safety/followup_disclosures.jsonl]
                                                  [--model DIR] [--away FILE ...]

The follow-up files (``safety_followups_train_*.jsonl``) label the message *after* a disclosure; the disclosures
themselves ("I have a whole bottle of sleeping pills and I want to take them all") sit unlabelled in ``history``.
A model trained also on the seen held-out sets lost some of these short explicit disclosures (rounds 8 and 12), so
each distinct history line that the given detector (default: the shipped one) flags becomes a positive with the
detector's category; lines it does not flag are left out, never taught as "no crisis". Lines close to a text of an
``--away`` file (a held-out set to be measured) are dropped. Only the training files are read, so the opening
disclosures of the development and held-out follow-up files stay a check the new model has not seen.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from empath.safety import SafetyChecker
from empath.safety_evaluation import history_lines, load_labelled_set, near_duplicates

SAFETY_DATA = Path(__file__).resolve().parent / "data" / "safety"
NOTE = "followup_train_disclosure"


def flagged_history_lines(files: list[Path], checker: SafetyChecker) -> list[dict]:
    """Each distinct earlier seeker turn of ``files`` that ``checker`` flags alone, as a labelled positive."""
    items = []
    for text, lang in history_lines(files).items():
        verdict = checker.check(text, lang=lang)
        if verdict.crisis and verdict.category:
            items.append({"text": text, "lang": lang, "crisis": True, "category": verdict.category, "note": NOTE})
    return items


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.label_followup_disclosures", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(SAFETY_DATA / "followup_disclosures.jsonl"))
    parser.add_argument("--model", help="the learned stage to label with (default: the shipped one)")
    parser.add_argument("--away", nargs="*", default=[], metavar="FILE",
                        help="labelled sets whose texts the output must not come close to")
    args = parser.parse_args(argv)

    files = sorted(SAFETY_DATA.glob("safety_followups_train_*.jsonl"))
    items = flagged_history_lines(files, SafetyChecker(model_dir=args.model))
    away = [item for path in args.away for item in load_labelled_set(path)]
    close = {item["text"] for item in near_duplicates(items, away)} if away else set()
    kept = [item for item in items if item["text"] not in close]
    with open(args.out, "w", encoding="utf-8") as out:
        for item in kept:
            out.write(json.dumps(item, ensure_ascii=False) + "\n")
    print(f"{len(kept)} flagged history lines written to {args.out} ({len(close)} close to --away dropped)",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
