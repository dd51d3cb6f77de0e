"""Build seed_dialogues/persona_en.jsonl from the hand-written sources in seed_dialogues/src/.

Source format (one file per persona, ``src/<role_id>.txt``; ``#`` starts a comment line)::

    === <one-line summary of the seeker's problem>
    S: seeker turn
    H <CODE> [experience-id]: supporter turn

CODE is one of Q, RP, RF, SD, AR, PS, INF, OTH (the eight ESConv strategies, see STRATEGY_CODES).
Run ``python seed_dialogues/build.py`` from the repository root; the output is validated on write
and read back with ``empath.dialogue.read_jsonl``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))

from empath.dialogue import Background, Dialogue, Turn, read_jsonl, write_jsonl  # noqa: E402
from empath.roles import load_roles  # noqa: E402

STRATEGY_CODES = {
    "Q": "Question",
    "RP": "Restatement or Paraphrasing",
    "RF": "Reflection of feelings",
    "SD": "Self-disclosure",
    "AR": "Affirmation and Reassurance",
    "PS": "Providing Suggestions",
    "INF": "Information",
    "OTH": "Others",
}
_SUPPORTER = re.compile(r"^H\s+([A-Z]+)(?:\s+([a-z_]+-\d+))?\s*:\s*(.+)$")


def parse_source(path: Path, role_id: str) -> list[Dialogue]:
    bank = load_roles()
    topic = bank.get(role_id).topic
    dialogues: list[Dialogue] = []
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{path}:{lineno}"
        if line.startswith("==="):
            n = len(dialogues) + 1
            background = Background(question=line[3:].strip(), topic=topic, role=role_id)
            dialogues.append(Dialogue(f"empath-seed-en-{role_id}-{n:02d}", background, [], "en", "empath-seed"))
        elif line.startswith("S:"):
            dialogues[-1].turns.append(Turn("seeker", line[2:].strip()))
        elif line.startswith("H"):
            m = _SUPPORTER.match(line)
            if not m or m.group(1) not in STRATEGY_CODES:
                raise ValueError(f"{where}: expected 'H CODE [experience-id]: text'")
            dialogues[-1].turns.append(Turn("supporter", m.group(3).strip(), STRATEGY_CODES[m.group(1)], m.group(2)))
        else:
            raise ValueError(f"{where}: a line must start with '===', 'S:' or 'H'")
    return dialogues


def build(out: Path = ROOT / "persona_en.jsonl") -> int:
    dialogues = []
    for role in load_roles():
        src = ROOT / "src" / f"{role.id}.txt"
        if src.exists():
            dialogues += parse_source(src, role.id)
    n = write_jsonl(dialogues, out)
    read_jsonl(out)  # round trip
    return n


if __name__ == "__main__":
    print(f"wrote {build()} dialogues to {ROOT / 'persona_en.jsonl'}")
