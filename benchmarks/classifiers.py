"""Latency of role matching + strategy prediction for one seeker message (target: p50 <= 20 ms on 2 CPU cores).

Replays dialogues message by message the way the pipeline calls the classifiers: for every seeker turn,
``RoleMatcher.predict(question=first message)`` and ``StrategyPredictor.predict(background, turns so far)``.
Two columns, measured side by side in one run:

- ``live``: the classifiers as the pipeline holds them (the background and earlier turns were
  encoded on previous messages and come from the memo; the new seeker message and the supporter
  reply before it are encoded);
- ``cold``: the text memo cleared before every message (every text encoded from scratch).

The encoder alone (one new message) is timed too, so the heads' share is visible.

    python -m benchmarks.classifiers [--dialogues 20] [--threads 2] [--data ../shared/data/esconv/valid.jsonl]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

TARGET_MS = 20.0
# Used when the shared ESConv data is absent (written for this benchmark).
FALLBACK_DIALOGUE = [
    "Hi, I haven't been sleeping well since I lost my job last month.",
    "I keep lying awake thinking about bills and whether anyone will hire me.",
    "My wife says I should relax, but it's hard when the rent is due.",
    "I applied to ten places and nobody answered.",
    "Maybe I could ask my old manager for a reference.",
    "Thanks, that helps a bit. I'll try writing to him tomorrow.",
]


def _conversations(path: str | None, n: int):
    from empath.dialogue import Background, Turn, read_esconv

    if path and Path(path).exists():
        return [[t for t in d.turns] for d in read_esconv(path)[:n]]
    out = []
    for _ in range(n):
        turns = []
        for msg in FALLBACK_DIALOGUE:
            turns += [Turn("seeker", msg), Turn("supporter", "I hear you. Tell me more.", "Question")]
        out.append(turns)
    return out


def _pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def main(argv=None) -> int:
    from empath._data import shared_data_dir

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=str(shared_data_dir() / "esconv" / "valid.jsonl"))
    p.add_argument("--dialogues", type=int, default=20)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--classifiers", default=None)
    args = p.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    from empath.classifiers import load_classifiers
    from empath.dialogue import Background

    t0 = time.perf_counter()
    matcher, predictor = load_classifiers(args.classifiers)
    scorer = predictor.scorers[predictor.default_lang]
    encoder = scorer.encoder  # loads the encoder
    load_s = time.perf_counter() - t0
    conversations = _conversations(args.data, args.dialogues)
    matcher.predict(question="warm-up message")  # first-call costs (lazy imports) are not per-message costs
    predictor.predict(Background(question="warm-up"), [])

    timings = {"live": [], "cold": [], "encoder": []}
    for turns in conversations:
        first = next((t.text for t in turns if t.speaker == "seeker"), "")
        background = Background(question=first)
        for i, turn in enumerate(turns):
            if turn.speaker != "seeker":
                continue
            context = turns[: i + 1]
            for mode in ("cold", "live"):  # cold first: live then reuses what the cold pass encoded
                if mode == "cold":
                    encoder._memo.clear()
                    if hasattr(scorer, "clear_memo"):  # the sequence head's GRU states per dialogue prefix
                        scorer.clear_memo()
                else:  # new since the last message: the seeker's message and the reply before it
                    for t in context[-2:]:
                        encoder._memo.pop(t.text.strip(), None)
                tick = time.perf_counter()
                matcher.predict(question=first)
                predictor.predict(background, context)
                timings[mode].append(1000 * (time.perf_counter() - tick))
            tick = time.perf_counter()
            encoder.encoder.encode([turn.text])
            timings["encoder"].append(1000 * (time.perf_counter() - tick))

    n = len(timings["live"])
    print(f"classifiers: {args.classifiers or 'shipped default'}; encoder {encoder.name}; torch threads {args.threads}; "
          f"{n} seeker messages from {len(conversations)} dialogues; load {load_s:.1f}s")
    print(f"{'':26}{'p50 ms':>9}{'p95 ms':>9}{'p50 / target':>14}")
    for label, key in (("role + strategy, live", "live"), ("role + strategy, cold", "cold"),
                       ("encoder alone (1 text)", "encoder")):
        xs = timings[key]
        print(f"{label:26}{statistics.median(xs):9.1f}{_pct(xs, 0.95):9.1f}{statistics.median(xs) / TARGET_MS:14.2f}")
    print(f"target: p50 <= {TARGET_MS:.0f} ms for both predictions of one message (live)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
