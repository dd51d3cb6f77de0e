"""Persona-voice accuracy: are replies forced to a persona identified as that persona?

    python -m training.evaluate_persona_voice [--predictions FILE] [--seed-dialogues FILE] [--cv] [--folds 5] [--json]

The classifier (``empath.persona_voice``: char 2-5-gram TF-IDF + logistic regression) is fitted only on the
personas' own texts (role bank profile and style, experiences), never on dialogues or generated replies.

``--predictions``: JSONL, one object per reply with the fields ``reply`` and ``role`` (names changeable with
``--reply-field`` / ``--role-field``; lines without a reply or a role are counted and skipped). With a
``system`` field (or ``--system-field``) accuracy is also given per system.
``--seed-dialogues``: a dialogue JSONL (e.g. ``seed_dialogues/persona_en.jsonl``); every supporter turn of a
dialogue with ``background.role`` is scored against that role: a sanity upper bound for hand-written voice.
``--cv``: also the stratified, grouped k-fold accuracy on the personas' own texts.

Prints accuracy, the accuracy with every persona's name masked (a reply that only says the name is not the
persona's voice) and how many replies name a persona, and one row per persona (n, accuracy, most frequent
prediction); chance is 1 / #personas.
With ``--json`` the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path


def read_predictions(path: str | Path, reply_field: str = "reply", role_field: str = "role",
                     system_field: str = "system") -> tuple[list[dict], int]:
    """``([{"reply", "role", "system"}], skipped)`` from a JSONL file."""
    rows, skipped = [], 0
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SystemExit(f"{path}:{lineno}: invalid JSON ({exc.msg})") from None
            reply, role = record.get(reply_field), record.get(role_field)
            if not isinstance(reply, str) or not reply.strip() or not isinstance(role, str) or not role:
                skipped += 1
                continue
            rows.append({"reply": reply, "role": role, "system": str(record.get(system_field) or "")})
    return rows, skipped


def seed_supporter_turns(path: str | Path) -> list[dict]:
    """Every supporter turn of the dialogues in ``path`` with the dialogue's role."""
    from empath.dialogue import read_jsonl

    return [{"reply": t.text, "role": d.background.role, "system": "seed"}
            for d in read_jsonl(path) if d.background.role for t in d.turns if t.speaker == "supporter"]


def _report(rows: list[dict], classifier) -> dict:
    from empath.persona_voice import persona_voice_report

    report = persona_voice_report([r["reply"] for r in rows], [r["role"] for r in rows], classifier)
    systems = defaultdict(list)
    for row, pred in zip(rows, report.pop("predicted")):
        systems[row["system"]].append(row["role"] == pred)
    if len(systems) > 1:
        report["per_system"] = {s: {"n": len(v), "accuracy": sum(v) / len(v)} for s, v in sorted(systems.items())}
    return report


def _print_report(title: str, report: dict) -> None:
    print(f"\n{title}: accuracy {100 * report['accuracy']:.1f} % over {report['n']} replies "
          f"(chance {100 * report['chance']:.1f} %)")
    if "names_masked" in report:
        masked = report["names_masked"]
        print(f"  with every persona's name masked: {100 * masked['accuracy']:.1f} % "
              f"({masked['naming']} of {report['n']} replies name a persona)")
    print(f"  {'persona':<20} {'n':>5} {'acc %':>7}  most often named")
    for role, row in sorted(report["per_persona"].items()):
        top = next(iter(row["predicted"]), "-")
        print(f"  {role:<20} {row['n']:>5} {100 * row['accuracy']:>7.1f}  {top}")
    for system, row in report.get("per_system", {}).items():
        print(f"  system {system or '(none)'}: {100 * row['accuracy']:.1f} % of {row['n']}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--predictions", help="JSONL with fields reply and role (e.g. training.evaluate's output)")
    p.add_argument("--reply-field", default="reply")
    p.add_argument("--role-field", default="role")
    p.add_argument("--system-field", default="system")
    p.add_argument("--seed-dialogues", help="dialogue JSONL whose supporter turns are scored (sanity bound)")
    p.add_argument("--cv", action="store_true", help="also cross-validate on the personas' own texts")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--experiences", default=None, help="experiences folder/file (default: experiences/)")
    p.add_argument("--lang", default="en")
    p.add_argument("--json", action="store_true", help="print one JSON object last")
    args = p.parse_args(argv)
    if not (args.predictions or args.seed_dialogues or args.cv):
        p.error("give --predictions, --seed-dialogues and/or --cv")

    from empath.experiences import ExperienceBank
    from empath.persona_voice import PersonaVoiceClassifier
    from empath.roles import load_roles

    classifier = PersonaVoiceClassifier().fit(load_roles(), ExperienceBank.load(args.experiences), lang=args.lang)
    out: dict = {"classifier": {"texts": len(classifier.texts), "personas": len(classifier.roles),
                                "ngram_range": list(classifier.ngram_range), "c": classifier.c}}
    print(f"persona-voice classifier fitted on {len(classifier.texts)} texts of {len(classifier.roles)} personas")
    if args.cv:
        cv = classifier.cross_validate(args.folds)
        out["cross_validation"] = cv
        print(f"cross-validated accuracy on the personas' own texts ({args.folds} folds): "
              f"{100 * cv['accuracy']:.1f} % +- {100 * cv['std']:.1f} (chance {100 * cv['chance']:.1f} %)")
    if args.predictions:
        rows, skipped = read_predictions(args.predictions, args.reply_field, args.role_field, args.system_field)
        if not rows:
            print(f"{args.predictions}: no replies with a role", file=sys.stderr)
            return 1
        out["predictions"] = {**_report(rows, classifier), "skipped": skipped}
        _print_report(f"predictions ({args.predictions})", out["predictions"])
        if skipped:
            print(f"  skipped {skipped} line(s) without a reply or a role")
    if args.seed_dialogues:
        out["seed_dialogues"] = _report(seed_supporter_turns(args.seed_dialogues), classifier)
        out["seed_dialogues"].pop("per_system", None)
        _print_report(f"seed dialogues ({args.seed_dialogues}) supporter turns", out["seed_dialogues"])
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
