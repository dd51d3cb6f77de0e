"""The paper's Section 6 generation evaluation (Table 3, Figures 7-8) as one command.

    python -m training.evaluate --data ../shared/data/esconv/valid.jsonl --format esconv \
        --systems empath,base,no-role,no-strategy,no-rag,constant --max-turns 300 --out runs/esconv-valid --json

Each sampled supporter turn is rebuilt from the gold history up to the seeker's message; every system answers
it; replies are scored against the human reply (D-1/D-2, B-1/B-2/B-4, F1, R-L x100, gold-reply PPL for local
models) and checked for markdown debris, another language and a second speaker's turn. Systems: ``empath``,
``base`` (no persona, strategy, experience or adapter), the ablations ``no-role``, ``no-strategy``, ``no-rag``,
``prompt-only`` (no adapter), ``constant`` (one fixed generic reply) and any base-model ref (Hub id or folder:
full Empath prompting on that model, no adapter). Sampling, decoding, perplexity and resumption are described
in :mod:`empath.evaluation`. Writes ``predictions.jsonl``, ``results.json``, ``table.md`` and plots into
``--out``; rerunning the same command continues a killed run. ``--judge`` adds pairwise LLM judging against the
human reply (both orders) via an OpenAI-compatible endpoint (``EMPATH_JUDGE_*`` or ``EMPATH_LLM_*``:
``_MODEL``, ``_BASE_URL``, ``_API_KEY``). With ``--json`` the last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from empath._data import DataFileError
from empath.evaluation import DECODINGS, HUMAN, EvaluationError, check_system_names, run_evaluation, summary_line
from empath.postprocess import CONSENSUS_AGREEMENTS

DEFAULT_SYSTEMS = "empath,base,no-role,no-strategy,no-rag,constant"


def parse_args(argv=None) -> argparse.Namespace:
    """The command line (see the module docstring)."""
    p = argparse.ArgumentParser(prog="python -m training.evaluate", description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="dialogue file (e.g. ESConv valid.jsonl)")
    p.add_argument("--format", default="auto", help="auto|esconv|psyqa|jsonl|multiturn|cpsycoun|emollm")
    p.add_argument("--systems", default=DEFAULT_SYSTEMS, help=f"comma-separated (default: {DEFAULT_SYSTEMS})")
    p.add_argument("--max-turns", type=int, default=None, help="first N sampled turns (default: all)")
    p.add_argument("--every", type=int, default=1, help="take every K-th usable supporter turn (default 1)")
    p.add_argument("--offset", type=int, default=0,
                   help="start at the (O+1)-th usable turn, 0 <= O < K (another offset: a disjoint sample)")
    p.add_argument("--seed", type=int, default=0, help="run seed; each turn samples with a seed derived from it")
    p.add_argument("--decoding", default="app",
                   help=f"{' | '.join(DECODINGS)} | a temperature: app = the app's default decoding; greedy = the same at "
                        "temperature 0; sample = 0.7 / top-p 0.95; a number = sampling at that temperature, top-p 0.95")
    p.add_argument("--max-new-tokens", type=int, default=None, help="default: the app's")
    p.add_argument("--min-new-tokens", type=int, default=None,
                   help="no end of the reply before this many tokens (default: the app's)")
    p.add_argument("--persona-guidance", type=float, default=1.0,
                   help="opt-in persona guidance scale, 1-3 (1 = off, the app's default): a second pass per token")
    p.add_argument("--persona-lexicon", type=float, default=None,
                   help="logit bonus for the persona's words, 0-10: B for the most distinctive, tapering to B/2"
                        " (0 = off; default: the app's)")
    p.add_argument("--candidates", type=int, default=None,
                   help="sample N replies per turn and keep the one closest to the others (1 = off; default: the app's)")
    p.add_argument("--consensus", choices=CONSENSUS_AGREEMENTS, default=None,
                   help="how the drafts are compared to pick the most agreed (default: the app's, rouge-l)")
    p.add_argument("--out", required=True, help="output folder (rerun with the same folder to resume)")
    p.add_argument("--judge", action="store_true",
                   help="pairwise LLM judging (needs EMPATH_JUDGE_MODEL or EMPATH_LLM_MODEL)")
    p.add_argument("--judge-against", default=HUMAN,
                   help="opponent of every system: human (the gold reply) or one of the systems")
    p.add_argument("--judge-turns", type=int, default=100, help="judge the first N turns (default 100)")
    p.add_argument("--base-model", help="base model of the built-in systems (default: EMPATH_BASE_MODEL / offline)")
    p.add_argument("--adapter", help="Group MoELoRA adapter ('none' for none; default: EMPATH_ADAPTER / the demo)")
    p.add_argument("--classifiers"), p.add_argument("--experiences")
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    return p.parse_args(argv)


def build_pipeline(args):
    """The pipeline from the command line and ``EMPATH_*`` (loaded lazily, on first use)."""
    from empath.pipeline import EmpathPipeline, PipelineConfig

    return EmpathPipeline(PipelineConfig.from_env(base_model=args.base_model, adapter=args.adapter,
                                                  classifiers=args.classifiers, experiences=args.experiences))


def main(argv=None, pipeline=None) -> int:
    """Run the evaluation; ``pipeline`` may be injected (tests), else it is built from the arguments."""
    args = parse_args(argv)
    try:
        systems = check_system_names(args.systems.split(","))
        from empath.dialogue import read_dialogues

        dialogues = read_dialogues(args.data, format=args.format)
        if args.threads:
            import torch

            torch.set_num_threads(args.threads)
        pipeline = pipeline or build_pipeline(args)
        config = {"data": str(Path(args.data).resolve()), "format": args.format,
                  "base_model": pipeline.config.base_model, "adapter": pipeline.config.adapter}
        results = run_evaluation(pipeline, dialogues, systems, args.out, every=args.every, max_turns=args.max_turns,
                                 offset=args.offset,
                                 seed=args.seed, decoding=args.decoding, max_new_tokens=args.max_new_tokens,
                                 min_new_tokens=args.min_new_tokens,
                                 persona_guidance=args.persona_guidance, persona_lexicon=args.persona_lexicon,
                                 candidates=args.candidates, consensus=args.consensus,
                                 judge=args.judge, judge_against=args.judge_against, judge_turns=args.judge_turns,
                                 config=config, progress=not args.no_progress)
    except (EvaluationError, DataFileError, ValueError, KeyError, RuntimeError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"error: {message}", file=sys.stderr)
        return 2
    print((Path(args.out) / "table.md").read_text(encoding="utf-8"))
    for note in results["notes"]:
        print(f"note: {note}")
    print(f"wrote {args.out}/results.json, predictions.jsonl, table.md" +
          "".join(f", {name}" for name in results["plots"]))
    if args.json:
        print(json.dumps(summary_line(results), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
