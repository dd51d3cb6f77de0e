"""Build PsyQA-format role-matching sets (question, rambling description, keywords with the topic first) from
hand-written ``title|description|more keywords`` lines under ``# <topic>`` headers.

Real PsyQA descriptions ramble: a self-introduction, the problem, then how the writer feels and a plea for
advice. The hand-written descriptions carry the problem; :func:`build` wraps each one, deterministically, in a
few topic-neutral sentences of that kind. The training part and the held-out part draw them from two disjoint
pools (:class:`Wrapping`), so a model cannot learn the held-out wrapping. Each language's folder
(``psyqa_zh/``, ``psyqa_en/``) holds its texts, its pools and a ``build.py`` over this module.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Wrapping:
    """Topic-neutral sentences one part's descriptions are wrapped in, and how the part uses them."""

    prefixes: tuple[str, ...]  # self-introductions that may open a description
    fillers: tuple[str, ...]  # feelings and pleas for advice around the problem
    min_length: int  # characters every description reaches (more fillers are added until it does)
    heldout: bool = False  # held-out: only descriptions shorter than ``short`` are wrapped, lightly
    short: int = 80


def read_questions(path: Path) -> list[tuple[str, str, str, list[str]]]:
    """(topic, title, description, further keywords) per line, in file order."""
    out, topic = [], None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            name = line[1:].strip()
            if name and "|" not in name and " " not in name:
                topic = name
            continue
        parts = line.split("|")
        if len(parts) != 3 or topic is None:
            raise ValueError(f"{path}:{number}: expected title|description|keywords under a '# <topic>' line")
        title, description, keys = (p.strip() for p in parts)
        out.append((topic, title, description, [k.strip() for k in keys.split(",") if k.strip()]))
    return out


def wrap(description: str, rng: random.Random, wrapping: Wrapping, n_fillers: int, prefix: bool, sep: str = "") -> str:
    """``description`` with ``n_fillers`` filler sentences (more while it is shorter than the part's minimum)
    and, if ``prefix``, a self-introduction; ``sep`` joins the pieces (``" "`` in English)."""
    extra = rng.sample(wrapping.fillers, len(wrapping.fillers))
    while n_fillers < len(extra) and len(description) + sum(len(e) + len(sep) for e in extra[:n_fillers]) < wrapping.min_length:
        n_fillers += 1
    pieces = [description, *extra[:n_fillers]]
    head = [rng.choice(wrapping.prefixes)] if prefix else []
    if len(pieces) > 1 and rng.random() < 0.3:  # sometimes the feelings come before the problem
        pieces[0], pieces[1] = pieces[1], pieces[0]
    return sep.join(head + pieces)


def build(source: Path, wrapping: Wrapping | None, answer: str, seed: int = 0, sep: str = "") -> list[dict]:
    """PsyQA-shaped records (``questionID``, ``question``, ``description``, ``keywords`` with the topic first,
    ``answers``) for the questions in ``source``; about one training question in seven rambles on for 5-7
    extra sentences. ``wrapping`` None keeps every description as written."""
    rng = random.Random(f"{source.stem}-{seed}")
    records = []
    for i, (topic, title, description, keys) in enumerate(read_questions(source), 1):
        if wrapping is None:
            text = description
        elif wrapping.heldout:
            short = len(description) < wrapping.short
            text = wrap(description, rng, wrapping, rng.choice([1, 2]) if short else 0, short and rng.random() < 0.4, sep)
        else:
            n = rng.choice([5, 6, 7]) if rng.random() < 0.15 else rng.choice([0, 1, 1, 2, 2, 3])  # some ramble on
            text = wrap(description, rng, wrapping, n, rng.random() < 0.35, sep)
        records.append({"questionID": i, "question": title, "description": text, "keywords": ",".join([topic, *keys]),
                        "answers": [{"answer_text": answer, "labels_sequence": []}], "has_label": False})
    return records


def write_sets(parts: list[tuple[Path, Path, Wrapping | None]], answer: str, sep: str = "") -> int:
    """Build every (source, output, wrapping) part, write it as JSON and print its size and lengths."""
    for source, out, wrapping in parts:
        records = build(source, wrapping, answer, sep=sep)
        out.write_text(json.dumps(records, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        lengths = sorted(len(r["description"]) for r in records)
        print(f"{out}: {len(records)} questions, description length min {lengths[0]}, "
              f"median {lengths[len(lengths) // 2]}, max {lengths[-1]}")
    return 0
