"""How the demo adapter was trained (rerun from the repository root):

    python -m training.train_demo_adapter --out /tmp/smollm2-esconv-demo

A random sample (seed 42) of ESConv train supporter turns, each with its context trimmed to the prompt budget the
way serving does (oldest turns dropped, the persona + strategy system message kept), trained with
``empath.group_moelora.training.train`` on the offline default base model, one CPU thread.
"""

import argparse
import random
import sys
import time

import torch


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--examples", type=int, default=160, help="training turns = optimiser steps (batch 1)")
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--max-prompt-tokens", type=int, default=352)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)

    from empath._data import shared_data_dir
    from empath.dialogue import read_esconv
    from empath.group_moelora import GroupMoELoraConfig
    from empath.group_moelora.training import train
    from empath.hub import DEFAULT_BASE_MODEL, load_causal_lm
    from empath.strategies import STRATEGY_NAMES
    from training.evaluate_adapter import trimmed_dialogue

    model, tokenizer = load_causal_lm(DEFAULT_BASE_MODEL, device="cpu", dtype=torch.float32)
    dialogues = read_esconv(shared_data_dir() / "esconv" / "train.jsonl")
    targets = [(d, c, t) for d in dialogues for c, t in d.supporter_targets() if t.strategy in STRATEGY_NAMES]
    random.Random(42).shuffle(targets)
    data = [trimmed_dialogue(d, c, t, tokenizer, args.max_prompt_tokens) for d, c, t in targets[: args.examples]]
    config = GroupMoELoraConfig(
        r=8, lora_alpha=16, lora_dropout=0.1, num_role_experts=4, num_strategy_experts=4, embedding_dim=128,
        beta=0.4, gate_scope="global", embedding_init="text", text_encoder="all-minilm-l6-v2",
        target_modules=["q_proj", "v_proj"], layers_to_transform=list(range(18, 30)),  # top 12 of 30 layers
        base_model_name_or_path=DEFAULT_BASE_MODEL,
    )
    start = time.time()
    train(model, data, args.out, tokenizer=tokenizer, config=config, max_steps=len(data), learning_rate=args.lr,
          per_device_train_batch_size=1, max_source_length=100_000, max_target_length=128, logging_steps=10,
          save_steps=40)
    print(f"trained on {len(data)} turns in {time.time() - start:.0f} s; saved to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
