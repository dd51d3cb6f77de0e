"""Recompute the emotion vectors of the experience files with a chosen scorer and write them back.

    python -m training.build_experience_index [--path experiences/] [--scorer default] [--lang en]
    python -m training.build_experience_index --check     # exit 1 if any vector would change

The files are validated first (errors name file:line). Only the ``emotion`` field of a record is
replaced, other lines are kept byte for byte, and a file is rewritten (atomically) only when one of its
vectors changed, so a second run with the same scorer changes nothing. Scores are rounded to
``--decimals`` places (0, the integers of the file format, by default).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from empath.emotion import SCORER_NAMES, emotion_dict, get_emotion_scorer
from empath.experiences import ExperienceBank, experiences_dir


def _write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def rebuild(path: str | Path | None = None, scorer_name: str = "default", lang: str = "en", decimals: int = 0,
            batch_size: int = 32, write: bool = True, progress: bool = True) -> dict:
    """Score every experience and update the files; returns counts (records, changed, files_changed)."""
    from tqdm.auto import tqdm

    location = experiences_dir(None) if path is None else Path(path)  # local only: files are rewritten
    if not location.exists():
        raise SystemExit(f"{location}: no such experiences folder or file")
    ExperienceBank.load(location)  # validates everything before anything is rewritten
    files = sorted(location.glob("*.jsonl")) if location.is_dir() else [location]
    scorer = get_emotion_scorer(scorer_name)

    # (file, line index, record, text) for every record, scored in batches across files
    entries = []
    lines_of = {}
    for file in files:
        lines_of[file] = file.read_text(encoding="utf-8").splitlines(keepends=True)
        for i, line in enumerate(lines_of[file]):
            if line.strip():
                record = json.loads(line)
                text = next((record["text"].get(k) for k in (lang, "en", *record["text"]) if record["text"].get(k)))
                entries.append((file, i, record, text))

    bar = tqdm(total=len(entries), desc=f"scoring ({scorer.name})", unit="exp", disable=not progress)
    changed_files, changed = set(), 0
    for start in range(0, len(entries), batch_size):
        batch = entries[start:start + batch_size]
        vectors = scorer.score_batch([text for *_, text in batch])
        for (file, i, record, _), vector in zip(batch, vectors):
            scores = emotion_dict(vector, decimals=decimals)
            if record["emotion"] != scores:
                record["emotion"] = scores
                ending = "\n" if lines_of[file][i].endswith("\n") else ""
                lines_of[file][i] = json.dumps(record, ensure_ascii=False) + ending
                changed_files.add(file)
                changed += 1
        bar.update(len(batch))
    bar.close()
    if write:
        for file in sorted(changed_files):
            _write_atomically(file, "".join(lines_of[file]))
    return {"path": str(location), "scorer": scorer.name, "lang": lang, "records": len(entries),
            "changed": changed, "files_changed": [f.name for f in sorted(changed_files)], "written": write}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--path", help="local experiences folder or file (default: EMPATH_EXPERIENCES "
                                       "or the repository's experiences/)")
    parser.add_argument("--scorer", default="default",
                        help=f"emotion scorer: {', '.join(SCORER_NAMES)}, local-llm:<ref> or a head file")
    parser.add_argument("--lang", default="en", choices=["en", "zh"], help="which text to score (falls back "
                                                                           "to the other language)")
    parser.add_argument("--decimals", type=int, default=0, help="decimal places stored (0 = integers)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a vector would change")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    result = rebuild(args.path, args.scorer, args.lang, args.decimals, write=not args.check,
                     progress=not args.quiet)
    verb = "would change" if args.check else "changed"
    print(f"{result['path']}: {result['records']} experiences scored with {result['scorer']} ({args.lang}); "
          f"{verb} {result['changed']} in {len(result['files_changed'])} file(s) {result['files_changed']}")
    return 1 if args.check and result["changed"] else 0


if __name__ == "__main__":
    sys.exit(main())
