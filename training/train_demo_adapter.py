"""Train the offline default's Group MoELoRA adapter (SmolLM2-135M-Instruct) — one seeded, resumable command:

    python -m training.train_demo_adapter --out empath/data/adapters/smollm2-esconv-demo

Two stages, each a ``transformers.Trainer`` run with checkpoints under ``<out>/work/<stage>`` (rerun the same
command after an interruption and it continues from the last checkpoint; a finished stage is skipped):

1. ``support``: ESConv train supporter turns (strategy-tagged, routed by the dialogue's persona and the turn's
   strategy) in the compact prompt the adapter is served with (``empath.prompts``, style ``compact``: persona
   name, skill, the last few turns).
2. ``persona``: the hand-written persona dialogues (``seed_dialogues/``, experiences woven into comforting turns,
   repeated ``--seed-repeat`` times) mixed with as many fresh ESConv turns, at a lower learning rate, so the
   persona's voice and experiences show without forgetting how to support. ``--voice-repeat N`` adds the persona
   replies written for real ESConv seekers (``seed_dialogues/esconv_persona_replies_en.jsonl``, an overlay: ESConv
   turn ids + our replies) N times; off by default, since one pass did not make the 135M model's persona show
   (README, "Persona voice").

Loss on reply tokens only, and vocabulary logits only on reply positions (``reply_logits_only``). The adapter is
saved in float16 with ``empath.json`` (the prompt style it expects). Device and dtype are automatic, so the same
command runs on a GPU.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import time
from pathlib import Path

STAGES = ("support", "persona")
PROMPT_STYLE = "compact"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="adapter folder to write (work files go to OUT/work)")
    p.add_argument("--esconv", default=None, help="ESConv train file (default: $EMPATH_SHARED_DATA/esconv/train.jsonl)")
    p.add_argument("--seed-dialogues", default=None, help="persona dialogues (default: seed_dialogues/persona_en.jsonl)")
    p.add_argument("--support-examples", type=int, default=3200, help="ESConv turns in stage 1")
    p.add_argument("--persona-esconv-examples", type=int, default=400, help="fresh ESConv turns mixed into stage 2")
    p.add_argument("--seed-repeat", type=int, default=2, help="times each persona-dialogue turn is seen in stage 2")
    p.add_argument("--voice-replies", default=None,
                   help="persona replies to ESConv train turns (default: seed_dialogues/esconv_persona_replies_en.jsonl)")
    p.add_argument("--voice-repeat", type=int, default=0, help="times each of those replies is seen in stage 2 (0: none)")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--persona-lr", type=float, default=5e-4)
    p.add_argument("--rank", type=int, default=4)
    p.add_argument("--experts", type=int, default=4, help="experts per group (role and strategy)")
    p.add_argument("--max-reply-tokens", type=int, default=80)
    p.add_argument("--max-turn-tokens", type=int, default=60, help="each context turn is cut to this many tokens")
    p.add_argument("--save-steps", type=int, default=50)
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's choice)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--limit-steps", type=int, default=-1, help="stop each stage after this many steps (tests)")
    p.add_argument("--base-model", default=None, help="default: the offline default base model")
    return p


def adapter_config(args, base_model: str):
    """The adapter's shape: small experts on every projection of every layer (the quick trials showed that the
    MLP projections matter as much as attention for a 135M model)."""
    from empath.group_moelora import GroupMoELoraConfig
    from empath.roles import load_roles
    from empath.strategies import STRATEGY_NAMES

    return GroupMoELoraConfig(
        r=args.rank, lora_alpha=2 * args.rank, lora_dropout=0.0, num_role_experts=args.experts,
        num_strategy_experts=args.experts, embedding_dim=64, beta=0.4, gate_scope="global", embedding_init="text",
        text_encoder="all-minilm-l6-v2", target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj",
                                                         "up_proj", "down_proj"],
        role_names=load_roles().ids, strategy_names=list(STRATEGY_NAMES), base_model_name_or_path=base_model,
    )


def compact_example(tokenizer, role, strategy: str, history, reply: str, experience_text, config, args) -> dict:
    """One tokenised training example in the serving prompt (compact style)."""
    from empath.adapter import render_prompt
    from empath.prompts import PromptParts, build_messages

    cut = [(speaker, _cut_tokens(tokenizer, text, args.max_turn_tokens)) for speaker, text in history]
    parts = PromptParts(role=role, strategy=strategy, experience_text=experience_text, lang="en", style=PROMPT_STYLE)
    prompt = tokenizer(render_prompt(tokenizer, build_messages(parts, cut)), add_special_tokens=False)["input_ids"]
    target = tokenizer(reply.strip() + tokenizer.eos_token, add_special_tokens=False)["input_ids"][: args.max_reply_tokens]
    return {"input_ids": prompt + target, "labels": [-100] * len(prompt) + target,
            "role_ids": config.role_names.index(role.id), "strategy_ids": config.strategy_names.index(strategy)}


def _cut_tokens(tokenizer, text: str, limit: int) -> str:
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    return text if len(ids) <= limit else tokenizer.decode(ids[:limit]).strip() + "…"


def supporter_targets(dialogues) -> list[tuple]:
    """``(role_id, context, target)`` for every supporter turn, routed by the dialogue's persona."""
    return [(d.background.role, context, target) for d in dialogues for context, target in d.supporter_targets()]


def routable(targets, config) -> list[tuple]:
    """The triples whose persona and strategy the adapter routes, with some context to answer."""
    return [(role_id, context, target) for role_id, context, target in targets
            if role_id in config.role_names and target.strategy in config.strategy_names and context]


def examples_for(targets, tokenizer, config, args, experiences=None) -> list[dict]:
    """Routable ``(role_id, context, target)`` triples as tokenised examples; an ``experience_id`` puts that
    experience into the prompt, as serving does on comforting turns."""
    from empath.roles import load_roles

    bank = load_roles()
    out = []
    for role_id, context, target in routable(targets, config):
        experience = experiences.get(target.experience_id) if (experiences is not None and target.experience_id) else None
        out.append(compact_example(tokenizer, bank.get(role_id), target.strategy, [(t.speaker, t.text) for t in context],
                                   target.text, experience.text_for("en") if experience else None, config, args))
    return out


def esconv_turns(dialogues, config, args) -> tuple[list, list]:
    """The seeded ESConv sample: stage 1's turns and the fresh turns stage 2 mixes in (disjoint)."""
    turns = routable(supporter_targets(dialogues), config)
    random.Random(args.seed).shuffle(turns)
    support_end = args.support_examples
    return turns[:support_end], turns[support_end: support_end + args.persona_esconv_examples]


def stage_data(stage: str, args, tokenizer, config) -> list[dict]:
    """Stage 1: a seeded sample of ESConv turns; stage 2: persona dialogues x repeat + persona replies to ESConv
    seekers x repeat + fresh ESConv turns."""
    from empath._data import shared_data_dir
    from empath.dialogue import read_esconv, read_jsonl
    from empath.dialogue.overlay import read_overlay

    dialogues = read_esconv(args.esconv or shared_data_dir() / "esconv" / "train.jsonl")
    support, fresh = esconv_turns(dialogues, config, args)
    if stage == "support":
        return examples_for(support, tokenizer, config, args)
    experiences = _experience_index()
    seed_dialogues = read_jsonl(_required(args.seed_dialogues, "persona_en.jsonl", "--seed-dialogues"))
    seed = examples_for(supporter_targets(seed_dialogues), tokenizer, config, args, experiences)
    voice = []
    if args.voice_repeat > 0:
        replies = _required(args.voice_replies, "esconv_persona_replies_en.jsonl", "--voice-replies")
        overlay = read_overlay(replies, dialogues, experiences=experiences)
        voice = examples_for([(t.role, t.context, t.target) for t in overlay], tokenizer, config, args, experiences)
    data = seed * args.seed_repeat + voice * args.voice_repeat + examples_for(fresh, tokenizer, config, args)
    random.Random(args.seed + 1).shuffle(data)
    return data


def _required(given: str | None, default_name: str, option: str) -> Path:
    from empath._data import REPO_ROOT

    path = Path(given or REPO_ROOT / "seed_dialogues" / default_name)
    if not path.exists():
        raise SystemExit(f"{path}: persona data not found (pass {option})")
    return path


def _experience_index():
    from empath.experiences import ExperienceBank

    return ExperienceBank.load()


def run_stage(stage: str, args, base_model: str, init_from: Path | None) -> Path:
    """Train one stage into OUT/work/<stage>/final (resuming from its newest checkpoint); returns that folder."""
    import torch

    from empath.adapter import load_adapter, train
    from empath.hub import load_causal_lm

    work = Path(args.out) / "work" / stage
    final = work / "final"
    if (final / "adapter_config.json").exists():
        print(f"[{stage}] done already: {final}")
        return final
    model, tokenizer = load_causal_lm(base_model)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    config = adapter_config(args, base_model)
    data = stage_data(stage, args, tokenizer, config)
    tokens = sum(len(x["input_ids"]) for x in data)
    print(f"[{stage}] {len(data)} examples, {tokens} tokens (mean {tokens / max(1, len(data)):.0f})")
    if init_from is not None:  # stage 2 starts from stage 1's weights
        model = load_adapter(model, init_from, is_trainable=True)
        config = None
    start = time.time()
    train(model, [], work, tokenizer=tokenizer, config=config, examples=data, reply_logits_only=True,
          group_by_length=True, num_train_epochs=1, max_steps=args.limit_steps,
          learning_rate=args.lr if stage == "support" else args.persona_lr, warmup_steps=10,
          lr_scheduler_type="cosine", per_device_train_batch_size=args.batch_size, seed=args.seed,
          logging_steps=10, save_steps=args.save_steps, resume=True, threads=args.threads)
    # train() saves into ``work``; keep a copy that marks the stage as finished
    final.mkdir(parents=True, exist_ok=True)
    for name in ("adapter_config.json", "adapter_model.safetensors"):
        shutil.copy2(work / name, final / name)
    print(f"[{stage}] trained in {time.time() - start:.0f} s on {torch.get_num_threads()} threads")
    return final


def publish(final: Path, out: Path, args) -> None:
    """The shipped adapter: float16 weights (half the size, same replies), the config, and empath.json."""
    from safetensors.torch import load_file, save_file

    state = {k: (v.half() if v.is_floating_point() else v) for k, v in load_file(final / "adapter_model.safetensors").items()}
    save_file(state, str(out / "adapter_model.safetensors"), metadata={"format": "pt", "adapter": "empath-group-moelora"})
    shutil.copy2(final / "adapter_config.json", out / "adapter_config.json")
    recipe = {k: v for k, v in vars(args).items() if k not in ("out", "esconv", "seed_dialogues", "voice_replies", "threads")}
    (out / "empath.json").write_text(json.dumps({"prompt_style": PROMPT_STYLE, "recipe": recipe}, indent=2) + "\n")


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    from empath.hub import DEFAULT_BASE_MODEL

    base_model = args.base_model or DEFAULT_BASE_MODEL
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.time()
    previous = None
    for stage in STAGES:
        previous = run_stage(stage, args, base_model, previous)
    publish(previous, out, args)
    print(f"adapter written to {out} ({time.time() - start:.0f} s this run)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
