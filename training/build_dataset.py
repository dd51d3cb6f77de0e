"""Derive Empath dialogue JSONL from the public datasets.

    python -m training.build_dataset --input ESConv/train.jsonl --format esconv --out data/esconv_train.jsonl
    python -m training.build_dataset --input a.txt --input b.txt --format multiturn --out out.jsonl --skip-invalid

Formats: auto (guessed per file), esconv (HF split or original ESConv.json), psyqa, multiturn (the paper's
``求助者：`` / ``Supporter: [Strategy]`` text), cpsycoun, emollm, jsonl. ESConv roles come from problem_type,
PsyQA roles from the first keyword (see ``empath.dialogue``).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter

from empath._data import DataFileError
from empath.dialogue import FORMATS, Dialogues, read_dialogues, write_jsonl

MAX_SKIPPED_SHOWN = 20


def build(inputs: list[str], fmt: str = "auto", skip_invalid: bool = False) -> Dialogues:
    """Read every input into one :class:`Dialogues` (skipped messages concatenated in input order)."""
    merged = Dialogues()
    for path in inputs:
        part = read_dialogues(path, format=fmt, skip_invalid=skip_invalid)
        merged.extend(part)
        merged.skipped.extend(part.skipped)
    ids = Counter(d.id for d in merged)
    duplicated = [i for i, n in ids.items() if n > 1]
    if duplicated:
        raise DataFileError(f"duplicate dialogue ids across inputs (e.g. {duplicated[:3]}); ids must be unique")
    return merged


def summary(dialogues: Dialogues) -> dict:
    turns = [t for d in dialogues for t in d.turns]
    supporter = [t for t in turns if t.speaker == "supporter"]
    return {
        "dialogues": len(dialogues),
        "turns": len(turns),
        "supporter_turns": len(supporter),
        "with_strategy": sum(t.strategy is not None for t in supporter),
        "with_role": sum(d.background.role is not None for d in dialogues),
        "languages": dict(Counter(d.lang for d in dialogues)),
        "skipped": len(dialogues.skipped),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.build_dataset", description=__doc__.split("\n\n")[0])
    parser.add_argument("--input", action="append", required=True, help="dataset file (repeatable)")
    parser.add_argument("--format", default="auto", choices=FORMATS)
    parser.add_argument("--out", required=True, help="output dialogue JSONL")
    parser.add_argument("--skip-invalid", action="store_true", help="drop malformed records instead of stopping")
    args = parser.parse_args(argv)
    try:
        dialogues = build(args.input, args.format, args.skip_invalid)
    except DataFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not dialogues:
        print("error: no valid dialogues in the input", file=sys.stderr)
        return 1
    write_jsonl(dialogues, args.out)
    s = summary(dialogues)
    print(
        f"wrote {s['dialogues']} dialogues ({s['turns']} turns, {s['supporter_turns']} supporter turns, "
        f"{s['with_strategy']} with a strategy; {s['with_role']} dialogues with a role; "
        f"languages {s['languages']}) to {args.out}"
    )
    if dialogues.skipped:
        print(f"skipped {len(dialogues.skipped)} invalid record(s):")
        for message in dialogues.skipped[:MAX_SKIPPED_SHOWN]:
            print(f"  {message}")
        if len(dialogues.skipped) > MAX_SKIPPED_SHOWN:
            print(f"  ... and {len(dialogues.skipped) - MAX_SKIPPED_SHOWN} more")
    else:
        print("skipped 0 records")
    return 0


if __name__ == "__main__":
    sys.exit(main())
