"""Command line: ``python -m empath {prepare,chat,check-safety,export-lora,export-routes,serve}``."""

from __future__ import annotations

import argparse
import json
import sys


def _prepare(args) -> int:
    from .hub import prepare_offline_default, resolve_encoder

    print(f"base model: {prepare_offline_default(force=args.force)}")
    print(f"sentence encoder: {resolve_encoder()}")
    return 0


def _chat(args) -> int:
    from .generation import SamplingSettings
    from .pipeline import Components, Conversation, EmpathPipeline, PipelineConfig

    config = PipelineConfig.from_env(base_model=args.base_model, adapter=args.adapter,
                                     classifiers=args.classifiers, experiences=args.experiences)
    pipeline = EmpathPipeline(config)
    # Validate cheap inputs before loading any model, so a typo fails in milliseconds.
    from .pipeline import clean_message
    from .strategies import normalize_strategy

    clean_message(args.message, config.max_message_chars)
    if args.role:
        pipeline.roles.resolve(args.role)
    if args.strategy:
        normalize_strategy(args.strategy)
    components = Components(experience_rag=not args.no_rag, adapter=not args.no_adapter)
    settings = SamplingSettings(temperature=args.temperature, top_p=args.top_p, top_k=args.top_k,
                                max_new_tokens=args.max_new_tokens, seed=args.seed, candidates=args.candidates,
                                consensus=args.consensus)
    conversation = Conversation()
    result = None
    for result in pipeline.stream(conversation, args.message, role=args.role, strategy=args.strategy, lang=args.lang,
                                  components=components, settings=settings):
        pass
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False))
    else:
        print(f"[{result.role} | {result.strategy}] {result.response}" if not result.notice else
              f"[{result.role} | {result.strategy}] (no reply generated) {result.notice}")
    if result.error:
        print(f"error: {result.error}", file=sys.stderr)
        return 1
    return 0


def _check_safety(args) -> int:
    from .safety import check_lines

    with open(args.file, encoding="utf-8") as fh:
        for row in check_lines(fh):
            print(json.dumps(row, ensure_ascii=False))
    return 0


def _export_lora(args) -> int:
    from .adapter import export_lora

    report = export_lora(args.adapter, args.role, args.strategy, args.out, rank=args.rank, base_model=args.base_model)
    print(json.dumps(report, ensure_ascii=False))
    return 0


def _export_routes(args) -> int:
    from .route_export import export_routes

    manifest = export_routes(args.adapter, args.out, rank=args.rank, base_model=args.base_model,
                             max_loras=args.max_loras, uniform=not args.no_uniform)
    worst = max(r["relative_error"] for r in manifest["routes"])
    print(f"{len(manifest['routes'])} routes (rank {manifest['rank']}, largest relative error {worst:.3g}) in "
          f"{manifest['out_dir']}; start them with {manifest['out_dir']}/serve-vllm.sh (see its README.md)")
    return 0


def _serve(args) -> int:
    import os

    from .pipeline import EmpathPipeline, PipelineConfig
    from .server import serve

    config = PipelineConfig.from_env(base_model=args.base_model, adapter=args.adapter)
    pipeline = EmpathPipeline(config).warm_up()
    serve(pipeline, host=args.host, port=args.port, api_key=args.api_key or os.environ.get("EMPATH_API_KEY") or None,
          max_tokens_limit=args.max_tokens_limit)
    return 0


def build_parser() -> argparse.ArgumentParser:
    from .generation import SamplingSettings  # light: torch and transformers load only when generating
    from .postprocess import CONSENSUS_AGREEMENTS

    parser = argparse.ArgumentParser(prog="python -m empath", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("prepare", help="convert the packaged offline default model once into the cache")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=_prepare)

    p = sub.add_parser("chat", help="one seeker message -> one Empath reply")
    p.add_argument("--message", required=True)
    p.add_argument("--role", help="persona id or name (default: role matching)")
    p.add_argument("--strategy", help="strategy name (default: strategy prediction)")
    p.add_argument("--lang", choices=["auto", "en", "zh"], default="auto")
    p.add_argument("--base-model"), p.add_argument("--adapter")
    p.add_argument("--classifiers"), p.add_argument("--experiences")
    p.add_argument("--no-rag", action="store_true", help="ablation: no experience retrieval")
    p.add_argument("--no-adapter", action="store_true", help="ablation: base model, prompt only")
    defaults = SamplingSettings()  # the app's decoding
    p.add_argument("--temperature", type=float, default=defaults.temperature, help="0: greedy")
    p.add_argument("--top-p", type=float, default=defaults.top_p)
    p.add_argument("--top-k", type=int, default=defaults.top_k, help="sample from the k likeliest tokens (0: no cut)")
    p.add_argument("--max-new-tokens", type=int, default=defaults.max_new_tokens)
    p.add_argument("--seed", type=int)
    p.add_argument("--candidates", type=int, default=defaults.candidates,
                   help="sample N replies and show the one closest to the others (1: off; not streamed)")
    p.add_argument("--consensus", choices=CONSENSUS_AGREEMENTS, default=defaults.consensus,
                   help="how the N replies are compared (default: %(default)s)")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    p.set_defaults(func=_chat)

    p = sub.add_parser("check-safety", help="one message per line -> one JSON object per line")
    p.add_argument("--file", required=True)
    p.set_defaults(func=_check_safety)

    p = sub.add_parser("export-lora", help="write a plain PEFT LoRA for one (role, strategy)")
    p.add_argument("--adapter", required=True)
    p.add_argument("--role", required=True)
    p.add_argument("--strategy", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--rank", type=int, help="truncate by SVD to this rank (default: exact)")
    p.add_argument("--base-model", help="default: the base model named in the adapter config")
    p.set_defaults(func=_export_lora)

    p = sub.add_parser("export-routes", help="every (role, strategy) route as a PEFT LoRA + a vllm serve script")
    p.add_argument("--adapter", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--rank", type=int, help="truncate every route by SVD to this rank (default: exact)")
    p.add_argument("--base-model", help="what vllm serves (default: the base model named in the adapter config)")
    p.add_argument("--max-loras", type=int, help="vllm --max-loras: routes mixed in one batch (default: min(16, routes))")
    p.add_argument("--no-uniform", action="store_true", help="skip the <role>--uniform routes (no strategy predicted)")
    p.set_defaults(func=_export_routes)

    p = sub.add_parser("serve", help="an OpenAI-compatible HTTP API over the pipeline (/v1/chat/completions)")
    p.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1 (0.0.0.0 to listen on every interface)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--api-key", help="require this bearer token (default: EMPATH_API_KEY; unset = no key)")
    p.add_argument("--max-tokens-limit", type=int, default=1024, help="the largest max_tokens a request may ask for")
    p.add_argument("--base-model"), p.add_argument("--adapter")
    p.set_defaults(func=_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (KeyError, ValueError, FileNotFoundError, RuntimeError) as exc:
        # One line, no traceback: bad ids, bad files and unreachable models are user errors here.
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
