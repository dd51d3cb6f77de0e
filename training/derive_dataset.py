"""Derive a role-based, multi-strategy ES dataset from PsyQA-style QA (the paper's Section 3, ES-52k recipe).

    EMPATH_LLM_BASE_URL=http://127.0.0.1:8000/v1 EMPATH_LLM_MODEL=Qwen/Qwen2.5-72B-Instruct \
        python -m training.derive_dataset --input psyqa.json --out runs/derived --workers 8
    python -m training.derive_dataset --input psyqa.json --out runs/derived --local-model Qwen/Qwen2.5-7B-Instruct

Three stages per input (prompts: empath/data/prompts/derivation.yaml, English and Chinese): single-turn QA ->
8-10 round dialogue with one strategy per supporter turn; the persona's experiences (experiences/, the persona
chosen by topic as in the role bank) inserted at comforting turns; supporter turns rewritten in the persona's
speaking style. Section 3.3 filters: format, 8-10 rounds, perplexity <= 1500 under --ppl-model. Writes
OUT/derived.jsonl (our JSONL, for training.train_all / train_classifiers --jsonl), OUT/rejected.jsonl,
OUT/report.json and prints the report table. Answers are cached in OUT/cache.jsonl (by input id and stage):
rerun the same command to resume.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from empath._data import DataFileError

FORMATS = ("auto", "psyqa", "jsonl", "esconv", "multiturn", "cpsycoun", "emollm")


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m training.derive_dataset", description=__doc__.split("\n\n")[0],
                                epilog="Endpoint: --base-url/--model/--api-key or EMPATH_LLM_BASE_URL, "
                                       "EMPATH_LLM_MODEL, EMPATH_LLM_API_KEY (as the LLM emotion scorer).")
    p.add_argument("--input", action="append", required=True, help="PsyQA JSON/JSONL or our JSONL (repeatable)")
    p.add_argument("--format", choices=FORMATS, default="auto")
    p.add_argument("--out", required=True, help="output folder (rerun with the same folder to resume)")
    p.add_argument("--limit", type=int, default=None, help="first N input dialogues only")
    p.add_argument("--lang", choices=("auto", "en", "zh"), default="auto",
                   help="language of the derived dialogues and the prompts (auto: the input's)")
    g = p.add_argument_group("generation")
    g.add_argument("--base-url", default=None, help="OpenAI-compatible endpoint (default: EMPATH_LLM_BASE_URL)")
    g.add_argument("--model", default=None, help="model name at the endpoint (default: EMPATH_LLM_MODEL)")
    g.add_argument("--api-key", default=None, help="default: EMPATH_LLM_API_KEY or OPENAI_API_KEY")
    g.add_argument("--local-model", default=None,
                   help="generate with a local transformers model instead (folder, Hub id@revision, or the default)")
    g.add_argument("--temperature", type=float, default=0.7)
    g.add_argument("--max-tokens", type=int, default=2048, help="tokens per answer")
    g.add_argument("--timeout", type=float, default=120.0, help="seconds per request")
    g.add_argument("--retries", type=int, default=3, help="retries per request (exponential backoff)")
    g.add_argument("--backoff", type=float, default=2.0, help="first backoff in seconds (doubles each retry)")
    g.add_argument("--workers", type=int, default=4, help="concurrent dialogues (bounded thread pool)")
    g.add_argument("--price-in", type=float, default=0.0, help="USD per million prompt tokens (for the cost count)")
    g.add_argument("--price-out", type=float, default=0.0, help="USD per million completion tokens")
    f = p.add_argument_group("filters (Section 3.3)")
    f.add_argument("--min-rounds", type=int, default=8)
    f.add_argument("--max-rounds", type=int, default=10)
    f.add_argument("--ppl-model", default="smollm2-135m-instruct",
                   help="local causal LM for the perplexity filter ('none' skips the filter)")
    f.add_argument("--max-ppl", type=float, default=1500.0)
    p.add_argument("--experiences", default=None, help="experience bank folder or Hub id (default: experiences/)")
    p.add_argument("--experiences-per-prompt", type=int, default=3)
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--json", action="store_true", help="print the report as one JSON line at the end")
    return p.parse_args(argv)


def make_backend(args):
    from empath.derivation import OpenAIBackend, TransformersBackend

    if args.local_model:
        return TransformersBackend(args.local_model, max_new_tokens=args.max_tokens, temperature=args.temperature)
    return OpenAIBackend(args.model, base_url=args.base_url, api_key=args.api_key, timeout=args.timeout,
                         temperature=args.temperature, max_tokens=args.max_tokens)


def main(argv=None, *, perplexity=None, sleep=None) -> int:
    """``perplexity`` (text -> float) and ``sleep`` may be injected (tests)."""
    args = parse_args(argv)
    from empath.derivation import DerivationSettings, Deriver, PerplexityScorer, read_inputs
    from empath.experiences import ExperienceBank
    from empath.hub import ModelResolutionError

    try:
        dialogues, skipped = read_inputs(args.input, args.format, args.limit)
        backend = make_backend(args)
        bank = ExperienceBank.load(args.experiences)
        no_ppl = str(args.ppl_model).lower() == "none"
        if perplexity is None and not no_ppl:
            perplexity = PerplexityScorer(args.ppl_model)
        settings = DerivationSettings(
            lang=args.lang, min_rounds=args.min_rounds, max_rounds=args.max_rounds,
            max_perplexity=None if no_ppl else args.max_ppl, experiences_per_prompt=args.experiences_per_prompt,
            workers=args.workers, retries=args.retries, backoff=args.backoff, price_in=args.price_in,
            price_out=args.price_out, progress=not args.no_progress)
        deriver = Deriver(backend, args.out, settings, experiences=bank, perplexity=perplexity,
                          **({"sleep": sleep} if sleep else {}))
        kept = deriver.run(dialogues, skipped)
    except (DataFileError, ModelResolutionError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(deriver.report.table())
    print(f"wrote {len(kept)} dialogues to {os.path.join(args.out, 'derived.jsonl')} "
          f"(report: {os.path.join(args.out, 'report.json')})")
    if args.json:
        print(json.dumps(deriver.report.to_dict(), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
