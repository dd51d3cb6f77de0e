"""Build the English PsyQA-format role-matching sets from the hand-written questions.

    python -m training.data.psyqa_en.build

Reads ``train.txt`` and ``heldout.txt`` (``title|description|more keywords`` under ``# <Topic>``, the
English topic names of ``empath/data/roles.yaml``) and writes PsyQA-shaped JSON: ``train.json`` next to
this file and the held-out part to ``tests/fixtures/psyqa_en_roles.json``. Training descriptions are wrapped
in 0-3 topic-neutral sentences (one in seven in 5-7) the way people post for advice; about four in ten are
written as a one-line chat message and stay short when no sentence is drawn. Held-out questions are kept
exactly as written (their writer was asked for both one-liners and long, rambling posts).
"""

from __future__ import annotations

from pathlib import Path

from training.data.psyqa_questions import REPO_ROOT, Wrapping, write_sets

HERE = Path(__file__).resolve().parent
HELDOUT_OUT = REPO_ROOT / "tests" / "fixtures" / "psyqa_en_roles.json"
TRAIN_OUT = HERE / "train.json"

TRAIN_PREFIX = ("Throwaway account for this.", "Long-time reader, first post.", "I'm 29 and", "Not sure this is the right place, but here goes.",
                "Some background first:", "Posting from my phone, sorry for typos.", "I never thought I'd write something like this.",
                "Okay so.", "I (41M) need some perspective.", "Bit of a long one, sorry.", "Hi all,")
TRAIN_FILLER = ("Sorry for the long post.", "Any advice would mean a lot.", "I don't know what to do anymore.",
                "It's been like this for a while now.", "I keep thinking about it at night.", "My friends say I'm overthinking it.",
                "I know it sounds silly.", "I feel stuck.", "Has anyone been through something similar?", "Thanks for reading.",
                "I'm tired of feeling this way.", "I just needed to get this off my chest.", "What would you do?",
                "Part of me knows what I should do, but I can't.", "I haven't told anyone about this.", "Honestly I'm exhausted.",
                "Some days are better than others.", "I want things to change.", "Please be kind.", "Any tips?")
ANSWER = "Thank you for writing this down; it sounds heavy. Let's start with the part that weighs on you most."


def main() -> int:
    return write_sets([(HERE / "train.txt", TRAIN_OUT, Wrapping(TRAIN_PREFIX, TRAIN_FILLER, min_length=0)),
                       (HERE / "heldout.txt", HELDOUT_OUT, None)],
                      ANSWER, sep=" ")


if __name__ == "__main__":
    raise SystemExit(main())
