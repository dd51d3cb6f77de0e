"""Replies forced to each persona, for the persona-voice measurement (issue 11, part 3):

    python -m training.generate_persona_replies --data ../shared/data/esconv/valid.jsonl --format esconv \
        --turns 10 --every 97 --out runs/persona-replies.jsonl
    python -m training.evaluate_persona_voice --predictions runs/persona-replies.jsonl

For each of ``--turns`` sampled supporter turns (``empath.evaluation.sample_turns``: the gold history up to the
seeker's message) every persona of the role bank answers with the persona forced (``role=``), everything else as in
the app (strategy prediction, experience retrieval, the adapter routed by the persona, the app's decoding with a
seed per turn, or ``--decoding``; ``--persona-guidance G`` adds classifier-free guidance away from the persona-free
prompt, ``--persona-lexicon B`` a logit bonus for the persona's own words, B for the most distinctive tapering to B/2,
``--candidates N`` the most agreed of N drafts).
One JSON line per reply: ``dialogue_id``, ``turn``, ``role``, ``strategy``, ``reply``.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path


def main(argv=None, pipeline=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True)
    p.add_argument("--format", default="auto")
    p.add_argument("--turns", type=int, default=10)
    p.add_argument("--every", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--decoding", default="app", help="as in training.evaluate: app (default), greedy, sample or a "
                                                     "temperature")
    p.add_argument("--persona-guidance", type=float, default=1.0,
                   help="classifier-free guidance away from the persona-free prompt (1 = off, the app's default)")
    p.add_argument("--persona-lexicon", type=float, default=None,
                   help="logit bonus for the persona's words: B for the most distinctive, tapering to B/2"
                        " (0 = off; default: the app's)")
    p.add_argument("--min-new-tokens", type=int, default=None,
                   help="no end of the reply before this many tokens (default: the app's)")
    p.add_argument("--candidates", type=int, default=None,
                   help="sample N replies per turn and keep the one closest to the others (1 = off; default: the app's)")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)

    from empath.dialogue import read_dialogues
    from empath.evaluation import decoding_settings, sample_turns, turn_seed
    from empath.pipeline import EmpathPipeline

    try:
        settings = decoding_settings(args.decoding, persona_guidance=args.persona_guidance,
                                     persona_lexicon=args.persona_lexicon, candidates=args.candidates,
                                     min_new_tokens=args.min_new_tokens)
    except ValueError as exc:
        p.error(str(exc))
    turns, _ = sample_turns(read_dialogues(args.data, format=args.format), args.every, args.turns)
    pipeline = pipeline or EmpathPipeline()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as fh:
        for turn in turns:
            for role in pipeline.roles.ids:
                result = pipeline.respond(turn.conversation(), turn.message, role=role, record=False,
                                          settings=replace(settings, seed=turn_seed(args.seed, turn.dialogue_id, turn.turn_index)))
                fh.write(json.dumps({"dialogue_id": turn.dialogue_id, "turn": turn.turn_index, "role": role,
                                     "strategy": result.strategy, "reply": result.response}, ensure_ascii=False) + "\n")
    print(f"{len(turns)} turns x {len(pipeline.roles.ids)} personas written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
