"""Fine-tune a sentence encoder as the crisis detector's encoder head and add it to a safety model folder.

    python -m training.train_safety_encoder [--model empath/data/safety_model] [--langs en] [--weight 0.6]
                                            [--threshold 0.66] [--floor 0.05] [--rank 32] [--epochs 8] [--lr 2e-4]
                                            [--batch-size 32] [--max-length 128] [--save-items FILE | --items FILE]
                                            [--init DIR] [train_safety's data arguments]

The learned stage of ``training.train_safety`` reads n-grams and frozen sentence embeddings; this head
(``empath.encoder_classifier``: a LoRA adapter on all-MiniLM-L6-v2 and a linear head over its pooled embedding) is
fitted on the very same items (``train_safety.training_items``: curated sets, the seen held-out sets, follow-up
disclosures, mined real negatives, each read as ``SafetyChecker`` reads it) in the languages its encoder reads, and
mixed into the crisis probability of those languages with ``--weight`` (``empath/data/safety_model/encoder_head/``).
The share and threshold come from ``training.choose_safety_operating_point --encoder-weights`` on the development sets.

Time: about 2 minutes on one H200, about 80 minutes on 2 CPU cores (the defaults; device picked automatically).
Data can be built where the shared datasets are and trained elsewhere: ``--save-items FILE`` writes the items (JSONL,
gzip when the name ends in .gz) and stops; ``--items FILE`` trains on such a file. ``--init DIR`` goes on training a
saved head (its rank and modules kept; ``--epochs``/``--lr`` for the new run), e.g. on items added since it was
trained, without a GPU: the shipped head (round 19) is round 17's, trained two more epochs at 1e-4 on round 19's items
(20 minutes on 2 cores); round 17's was round 16's, trained likewise on round 17's items.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

from empath.encoder_classifier import EncoderClassifierConfig, train_encoder_classifier
from empath.safety import SafetyChecker
from empath.safety_model import DEFAULT_MODEL_DIR, LABELS, save_encoder_head
from training.train_safety import add_data_arguments, class_labels, sample_weights, training_items

ITEM_KEYS = ("text", "lang", "crisis", "category", "source", "model_input")


def _open(path: Path, mode: str):
    return gzip.open(path, mode + "t", encoding="utf-8") if path.suffix == ".gz" else path.open(mode, encoding="utf-8")


def write_items(items: list[dict], path: Path) -> None:
    """The training items as JSONL (the fields training needs)."""
    with _open(path, "w") as out:
        for item in items:
            out.write(json.dumps({key: item.get(key) for key in ITEM_KEYS}, ensure_ascii=False) + "\n")


def read_items(path: Path) -> list[dict]:
    with _open(path, "r") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def build_parser() -> argparse.ArgumentParser:
    """The command's arguments: the shipped head's share, threshold and floor, and round 16's training from scratch
    (rounds 17 and 19 each went on from the one before: ``--init DIR --epochs 2 --lr 1e-4``)."""
    parser = argparse.ArgumentParser(prog="python -m training.train_safety_encoder", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=str(DEFAULT_MODEL_DIR), help="the safety model folder to add the head to")
    parser.add_argument("--langs", nargs="+", default=["en"], help="languages the head reads (its encoder's)")
    parser.add_argument("--weight", type=float, default=0.6, help="the head's share of the crisis probability")
    parser.add_argument("--threshold", type=float, default=0.66,
                        help="the crisis threshold for the head's languages (the others keep the model's)")
    parser.add_argument("--floor", type=float, default=0.05,
                        help="run the head only where the regression's crisis probability reaches this (it costs a "
                             "forward pass; under 0.15 no message can be flagged at share 0.6 and threshold 0.66, so the "
                             "floor changes no decision; 0: on every message of its languages)")
    defaults = EncoderClassifierConfig()
    parser.add_argument("--encoder", default=defaults.encoder)
    parser.add_argument("--rank", type=int, default=defaults.rank)
    parser.add_argument("--epochs", type=float, default=defaults.epochs)
    parser.add_argument("--lr", type=float, default=defaults.learning_rate)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--max-length", type=int, default=defaults.max_length)
    parser.add_argument("--save-items", type=Path, help="write the training items to this file and stop")
    parser.add_argument("--items", type=Path, help="train on items written by --save-items")
    parser.add_argument("--init", type=Path, help="a saved head (e.g. the model's encoder_head/) to go on training")
    parser.add_argument("--no-progress", action="store_true")
    add_data_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.items:
        items = read_items(args.items)
    else:
        items = training_items(args, SafetyChecker(args.rules, use_model=False))[1]
    if args.save_items:
        write_items(items, args.save_items)
        print(f"wrote {len(items)} items to {args.save_items}", file=sys.stderr)
        return 0
    items = [item for item in items if item["lang"] in args.langs]
    if not items:
        raise SystemExit(f"no training items in {args.langs}")
    config = EncoderClassifierConfig(encoder=args.encoder, rank=args.rank, alpha=2 * args.rank, epochs=args.epochs,
                                     learning_rate=args.lr, batch_size=args.batch_size, max_length=args.max_length,
                                     seed=args.seed)
    print(f"training items: {len(items)} ({sum(it['crisis'] for it in items)} crisis) in {args.langs}", file=sys.stderr)
    head = train_encoder_classifier([it["model_input"] for it in items], class_labels(items).tolist(), LABELS,
                                    sample_weights(items, args).tolist(), config, progress=not args.no_progress,
                                    init=args.init)
    info = {"training": {"items": len(items), "crisis": sum(it["crisis"] for it in items),
                         "curated_weight": args.curated_weight, "max_mined": args.max_mined, "seed": args.seed,
                         "epochs": args.epochs, "learning_rate": args.lr,
                         **({"continued_from": str(args.init)} if args.init else {})}}
    folder = save_encoder_head(args.model, head, tuple(args.langs), args.weight, args.threshold, args.floor, info)
    print(f"wrote {folder} (share {args.weight}, threshold {args.threshold} for {args.langs})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
