"""Reply perplexity of a Group MoELoRA adapter against its base model, and whether its routing matters.

    python -m training.evaluate_adapter --adapter empath/data/adapters/smollm2-esconv-demo \
        --data /path/to/esconv/valid.jsonl --format esconv --max-examples 100 --json

For the first ``--max-examples`` supporter turns (in file order) with a routable role and strategy, the prompt is the
serving prompt (``empath.prompts``: persona + strategy system message, then the dialogue so far, oldest turns dropped
until the prompt fits ``--max-prompt-tokens``, as ``empath.generation.ChatGenerator`` does) and the loss is the mean
token-level cross-entropy of the supporter's reply (plus EOS). Three conditions on the same examples:

* ``base``: the base model alone, prompt only;
* ``adapter (gold route)``: base + adapter routed by the dialogue's role and the turn's gold strategy;
* ``adapter (wrong route)``: the same adapter routed by a *shifted* role and strategy (index + 1 modulo the count),
  so the only difference to the gold row is the route.

Prints a table; with ``--json`` the last line is a JSON object with the numbers.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass, replace
from typing import Optional, Sequence

from empath._data import DataFileError

CONDITIONS = ("base", "adapter (gold route)", "adapter (wrong route)")


@dataclass
class RoutedExample:
    """One supporter reply with its prompt, as token ids, and its gold route."""

    dialogue_id: str
    prompt_ids: list[int]
    reply_ids: list[int]
    role: str
    strategy: str


def fit_messages(parts, history: list[tuple[str, str]], tokenizer, max_prompt_tokens: int) -> tuple[str, list[int]]:
    """The rendered prompt and its ids, dropping the oldest dialogue turns (never the system message or the last
    turn) until it fits ``max_prompt_tokens`` — the serving rule, so the persona/strategy prompt is never cut."""
    from empath.adapter import render_prompt
    from empath.prompts import build_messages

    history = list(history)
    while True:
        text = render_prompt(tokenizer, build_messages(parts, history))
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        if len(ids) <= max_prompt_tokens or len(history) <= 1:
            return text, ids
        del history[0]


def trimmed_dialogue(dialogue, context, target, tokenizer, max_prompt_tokens: int):
    """A copy of ``dialogue`` holding only the context turns that fit the prompt budget, then ``target``.

    Context supporter turns lose their strategy, so ``empath.adapter.build_examples`` turns only
    ``target`` into a training example (the strategy of a context turn never enters the prompt)."""
    from empath.prompts import PromptParts
    from empath.roles import load_roles

    parts = PromptParts(role=load_roles().get(dialogue.background.role), strategy=target.strategy,
                        experience_text=None, lang=dialogue.lang)
    history = [(turn.speaker, turn.text) for turn in context]
    kept = len(history)
    while kept > 1:
        _, ids = fit_messages(parts, history[len(history) - kept:], tokenizer, 10**9)
        if len(ids) <= max_prompt_tokens:
            break
        kept -= 1
    turns = [replace(turn, strategy=None) for turn in context[len(context) - kept:]] if kept else []
    return replace(dialogue, turns=turns + [target])


def routed_examples(
    dialogues: Sequence,
    tokenizer,
    role_names: Sequence[str],
    strategy_names: Sequence[str],
    max_examples: Optional[int] = None,
    max_prompt_tokens: int = 384,
    max_reply_tokens: int = 128,
    every: int = 1,
) -> list[RoutedExample]:
    """Every ``every``-th supporter turn with a known role and strategy, in file order, at most ``max_examples``
    (``every > 1`` spreads a small subset over many dialogues, personas and strategies)."""
    from empath.prompts import PromptParts
    from empath.roles import load_roles

    bank = load_roles()
    eos = tokenizer.eos_token or ""
    examples: list[RoutedExample] = []
    seen = 0
    for dialogue in dialogues:
        role = dialogue.background.role
        if role not in role_names:
            continue
        for context, target in dialogue.supporter_targets():
            if target.strategy not in strategy_names or not target.text.strip():
                continue
            seen += 1
            if (seen - 1) % every:
                continue
            parts = PromptParts(role=bank.get(role), strategy=target.strategy, experience_text=None, lang=dialogue.lang)
            _, prompt_ids = fit_messages(parts, [(t.speaker, t.text) for t in context], tokenizer, max_prompt_tokens)
            reply_ids = tokenizer(target.text.strip() + eos, add_special_tokens=False)["input_ids"][:max_reply_tokens]
            examples.append(RoutedExample(dialogue.id, prompt_ids, reply_ids, role, target.strategy))
            if max_examples is not None and len(examples) >= max_examples:
                return examples
    return examples


def shifted(name: str, names: Sequence[str]) -> str:
    """The next name in ``names`` (cyclic): a deterministic wrong route."""
    return names[(list(names).index(name) + 1) % len(names)]


def evaluate(model, examples: Sequence[RoutedExample], conditions: Sequence[str] = CONDITIONS, progress: bool = False) -> dict:
    """``{condition: {"loss": mean nats per reply token, "perplexity": exp(loss), "tokens": n}}``."""
    from empath.evaluation import reply_loss

    role_names, strategy_names = model.role_names, model.strategy_names
    totals = {c: [0.0, 0] for c in conditions}
    start = time.time()
    for i, example in enumerate(examples):
        for condition in conditions:
            route = None
            if condition == "adapter (gold route)":
                route = {"role": example.role, "strategy": example.strategy}
            elif condition == "adapter (wrong route)":
                route = {"role": shifted(example.role, role_names), "strategy": shifted(example.strategy, strategy_names)}
            loss, count = reply_loss(model, example.prompt_ids, example.reply_ids, route)
            totals[condition][0] += loss
            totals[condition][1] += count
        if progress and (i + 1) % 10 == 0:
            print(f"  {i + 1}/{len(examples)} examples, {time.time() - start:.0f} s", file=sys.stderr, flush=True)
    results = {}
    for condition, (nats, tokens) in totals.items():
        mean = nats / max(tokens, 1)
        results[condition] = {"loss": round(mean, 4), "perplexity": round(math.exp(mean), 3), "tokens": tokens}
    return results


def format_table(results: dict) -> str:
    base = results.get("base", {}).get("loss")
    lines = ["| condition | loss (nats/token) | perplexity | Δ loss vs base | tokens |", "|---|---:|---:|---:|---:|"]
    for condition, r in results.items():
        delta = f"{r['loss'] - base:+.4f}" if base is not None else ""
        lines.append(f"| {condition} | {r['loss']:.4f} | {r['perplexity']:.3f} | {delta} | {r['tokens']} |")
    return "\n".join(lines)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--adapter", required=True, help="Group MoELoRA adapter folder or Hub id[@revision]")
    p.add_argument("--base-model", default=None, help="base model ref (default: the adapter's base_model_name_or_path, "
                                                      "else the offline default smollm2-135m-instruct)")
    p.add_argument("--data", required=True, help="dialogue file (e.g. ESConv valid.jsonl)")
    p.add_argument("--format", default="auto", help="auto|esconv|psyqa|multiturn|jsonl")
    p.add_argument("--max-examples", type=int, default=300, help="first N routable supporter turns (file order)")
    p.add_argument("--every", type=int, default=1, help="take every N-th routable supporter turn (1: consecutive)")
    p.add_argument("--conditions", default=",".join(CONDITIONS),
                   help=f"comma-separated subset of: {', '.join(CONDITIONS)}")
    p.add_argument("--max-prompt-tokens", type=int, default=384)
    p.add_argument("--max-reply-tokens", type=int, default=128)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--json", action="store_true", help="print the results as JSON on the last line")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    conditions = [c.strip() for c in args.conditions.split(",") if c.strip()]
    unknown = [c for c in conditions if c not in CONDITIONS]
    if unknown or not conditions or args.every < 1:
        print(f"error: unknown conditions {unknown}; valid: {', '.join(CONDITIONS)}" if unknown or not conditions
              else "error: --every must be >= 1", file=sys.stderr)
        return 2
    import torch

    from empath.dialogue import read_dialogues
    from empath.adapter import adapter_folder, load_adapter
    from empath.group_moelora import AdapterLoadError, GroupMoELoraConfig
    from empath.hub import DEFAULT_BASE_MODEL, ModelResolutionError, load_causal_lm

    torch.set_num_threads(args.threads)
    try:
        dialogues = read_dialogues(args.data, format=args.format)
        folder = adapter_folder(args.adapter)
        config = GroupMoELoraConfig.from_pretrained(folder)
        base_ref = args.base_model or _loadable_base(config.base_model_name_or_path) or DEFAULT_BASE_MODEL
        base, tokenizer = load_causal_lm(base_ref, device="cpu", dtype=torch.float32)
        model = load_adapter(base, folder)
        examples = routed_examples(dialogues, tokenizer, model.role_names, model.strategy_names, args.max_examples,
                                   args.max_prompt_tokens, args.max_reply_tokens, args.every)
        if not examples:
            raise ValueError(f"{args.data}: no supporter turns with a routable role and strategy")
        start = time.time()
        results = evaluate(model, examples, conditions, progress=True)
    except (DataFileError, ModelResolutionError, AdapterLoadError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{len(examples)} supporter replies from {args.data}; adapter {args.adapter}; base {base_ref}; "
          f"{time.time() - start:.0f} s")
    print(format_table(results))
    if args.json:
        print(json.dumps({"adapter": str(args.adapter), "base_model": str(base_ref), "data": str(args.data),
                          "examples": len(examples), "every": args.every, "max_prompt_tokens": args.max_prompt_tokens,
                          "max_reply_tokens": args.max_reply_tokens, "results": results}))
    return 0


def _loadable_base(name: Optional[str]) -> Optional[str]:
    """The adapter's recorded base model if it names the offline default or an existing folder."""
    from pathlib import Path

    from empath.hub import DEFAULT_BASE_MODEL

    if not name:
        return None
    if name == DEFAULT_BASE_MODEL or Path(name).is_dir():
        return name
    return None


if __name__ == "__main__":
    sys.exit(main())
