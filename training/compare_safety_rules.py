"""Compare two crisis-rule files through the whole detector: on every labelled set, the items the new file gets right
and the old one wrong ("fixed") and the reverse ("broken"); on the guards, the turns whose flag changes.

    python -m training.compare_safety_rules OLD.yaml [--new YAML] [--model DIR] [--files F ...] [--esconv [DIR]]
                                            [--openings] [--full] [--json]

The standing rule for a round of rules: it fixes some items, breaks none, and the guards hold (ESConv seeker turns
flagged alone at most 64, opening disclosures at least 780 of 967; ``training.evaluate_safety`` gives the totals).
Both detectors share one model, so only the items whose rules reading differs (the rule outcome, what a context
explains away or leaves to the model, what each learned stage reads: ``SafetyChecker.rules_reading``) go through the
learned stages; every other item gets the same inputs and so the same outcome. ``--full`` runs every item instead,
a check of that shortcut (about 40 minutes on 2 cores for every labelled file).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from empath._data import shared_data_dir
from empath.safety import DEFAULT_RULES, SafetyChecker
from empath.safety_evaluation import compare_detectors, compare_flags, load_labelled_set
from training.evaluate_safety import SAFETY_DATA, esconv_seeker_dialogues, opening_disclosures


def labelled_items(paths: list[Path]) -> list[dict]:
    """Every item of the labelled files ``paths``, each with the name of its file."""
    return [{**item, "file": path.name} for path in paths for item in load_labelled_set(path)]


def build_parser() -> argparse.ArgumentParser:
    """The command's arguments."""
    parser = argparse.ArgumentParser(prog="python -m training.compare_safety_rules", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("old", help="the rule file to compare against (e.g. `git show REV:empath/data/safety.yaml`)")
    parser.add_argument("--new", default=str(DEFAULT_RULES), help="the new rule file (default: the packaged rules)")
    parser.add_argument("--model", help="the learned stage both read (default: empath/data/safety_model)")
    parser.add_argument("--rules-only", action="store_true", help="compare the rules alone (seconds, no model)")
    parser.add_argument("--files", nargs="*", type=Path, metavar="FILE",
                        help="labelled sets (default: every .jsonl of training/data/safety)")
    parser.add_argument("--esconv", nargs="?", const=str(shared_data_dir() / "esconv"), metavar="DIR",
                        help="also the ESConv seeker turns whose flag changes (default folder: shared data)")
    parser.add_argument("--openings", action="store_true",
                        help="also the follow-up sets' opening disclosures whose flag changes")
    parser.add_argument("--full", action="store_true", help="run every item through both detectors")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    old, new = (SafetyChecker(path, use_model=not args.rules_only, model_dir=args.model)
                for path in (args.old, args.new))
    files = args.files if args.files is not None else sorted(SAFETY_DATA.glob("*.jsonl"))
    report = {"old": args.old, "new": args.new,
              "labelled": compare_detectors(labelled_items(files), old, new, full=args.full)}
    if args.esconv:
        dialogues = esconv_seeker_dialogues(args.esconv)[1]
        report["esconv"] = compare_flags(dialogues, ["en"] * len(dialogues), old, new, full=args.full)
    if args.openings:
        openings = opening_disclosures()
        report["openings"] = compare_flags([[text] for text in openings], list(openings.values()), old, new,
                                           full=args.full)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
        return 0
    labelled = report["labelled"]
    print(f"{args.old} -> {args.new}: {labelled['items']} labelled items"
          + (f", {labelled['read_differently']} read differently by the rules" if not args.full else ""))
    for stage in ("rules", "detector"):
        changes = labelled[stage]
        if changes is None:  # --rules-only
            continue
        print(f"{'rules alone' if stage == 'rules' else 'whole detector'}: {len(changes['fixed'])} fixed, "
              f"{len(changes['broken'])} broken")
        for kind in ("broken", "fixed"):
            for row in changes[kind]:
                print(f"  {kind:6} {row['file']}:{row['line']} [{row['lang']} {row['category']}] {row['text'][:140]}")
    for guard in ("esconv", "openings"):
        if guard in report:
            for view in ("alone", "in_conversation"):
                changes = report[guard][view]
                print(f"{guard} ({view.replace('_', ' ')}): {len(changes['added'])} more flagged, "
                      f"{len(changes['removed'])} fewer")
                for kind in ("added", "removed"):
                    for text in changes[kind]:
                        print(f"  {kind:7} {text[:140]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
