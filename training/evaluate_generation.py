"""Score generated responses against references with the paper's automatic metrics (Table 3).

    python -m training.evaluate_generation --predictions preds.txt --references refs.txt [--lang zh] [--json]
    python -m training.evaluate_generation --predictions pairs.jsonl [--json]
    python -m training.evaluate_generation --predictions preds.txt --dialogues test.jsonl

``.txt`` files hold one response per line (literal newlines inside a response written as ``\\n``);
``.jsonl`` files hold objects with a ``prediction`` and/or ``reference`` field (a lone file with both
fields needs no ``--references``). ``--dialogues`` takes the references from a dataset instead: every
supporter turn of every dialogue, in order (``Dialogue.supporter_targets``). Prints a Table-3-style row
(scores x100); with ``--json`` the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from empath._data import DataFileError
from empath.dialogue import DatasetFormatError, detect_language, read_dialogues
from empath.metrics import TABLE3_COLUMNS, generation_metrics


def read_texts(path: str | Path, field: str) -> list[str]:
    """Responses from a ``.txt`` (one per line) or ``.jsonl`` (``field`` of each object) file."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise DataFileError(f"{path}: file not found") from None
    if path.suffix.lower() != ".jsonl":
        return [line.replace("\\n", "\n") for line in lines]
    texts = []
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetFormatError.at(path, lineno, f"invalid JSON ({exc.msg})") from None
        value = record.get(field) if isinstance(record, dict) else None
        if not isinstance(value, str):
            raise DatasetFormatError.at(path, lineno, f"needs a string field {field!r}")
        texts.append(value)
    return texts


def supporter_references(dialogues_path: str | Path) -> list[str]:
    """The text of every supporter turn, dialogue by dialogue (the generation targets)."""
    return [target.text for d in read_dialogues(dialogues_path) for _, target in d.supporter_targets()]


def evaluate(
    predictions_path: str,
    references_path: str | None = None,
    lang: str | None = None,
    dialogues_path: str | None = None,
) -> dict:
    predictions = read_texts(predictions_path, "prediction")
    if dialogues_path:
        source, references = dialogues_path, supporter_references(dialogues_path)
    else:
        source = references_path or predictions_path
        references = read_texts(source, "reference")
    if len(predictions) != len(references):
        raise DataFileError(
            f"{predictions_path} has {len(predictions)} predictions but {source} has {len(references)} references"
        )
    scores = generation_metrics(predictions, references)
    return {"n": len(predictions), "lang": lang or detect_language(" ".join(references)), **scores}


def format_row(result: dict, name: str = "") -> str:
    header = f"{'model':<24}{'n':>6}{'lang':>6}" + "".join(f"{c:>8}" for c in TABLE3_COLUMNS)
    row = f"{name[:23]:<24}{result['n']:>6}{result['lang']:>6}" + "".join(f"{result[c]:>8.2f}" for c in TABLE3_COLUMNS)
    return header + "\n" + row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m training.evaluate_generation", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--predictions", required=True, help=".txt (one per line) or .jsonl with 'prediction'")
    refs = parser.add_mutually_exclusive_group()
    refs.add_argument("--references", help=".txt or .jsonl with 'reference' (default: the predictions file)")
    refs.add_argument("--dialogues", help="dataset whose supporter turns are the references (any empath format)")
    parser.add_argument("--lang", choices=("en", "zh"), help="label for the row (default: detected); "
                        "tokenisation handles Chinese and English text either way")
    parser.add_argument("--name", default="", help="model name shown in the row")
    parser.add_argument("--json", action="store_true", help="also print the scores as one JSON object (last line)")
    args = parser.parse_args(argv)
    try:
        result = evaluate(args.predictions, args.references, args.lang, args.dialogues)
    except (DataFileError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_row(result, args.name or Path(args.predictions).stem))
    if args.json:
        rounded = {k: round(v, 4) if isinstance(v, float) else v for k, v in result.items()}
        print(json.dumps({"name": args.name or Path(args.predictions).stem, **rounded}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
