"""Fine-tune a Group MoELoRA adapter on Empath dialogue data.

    python -m training.train_group_moelora --data data/esconv_train.jsonl --out out/adapter --max-steps 200
    python -m training.train_group_moelora --base-model org/model@<sha> --data train.jsonl --out out/adapter \
        --r 32 --role-experts 8 --strategy-experts 8 --beta 0.4 --push-to-hub me/empath-adapter

Each supporter turn is a target routed by the dialogue's role and the turn's strategy; loss is on the reply only
(see ``empath.adapter.train``). Defaults are the paper's (Appendix E, Table 6).
"""

from __future__ import annotations

import argparse
import sys

from empath._data import DataFileError


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="dialogue file (empath JSONL, ESConv, PsyQA or multi-turn text)")
    p.add_argument("--format", default="auto", help="auto|esconv|psyqa|multiturn|jsonl")
    p.add_argument("--out", required=True, help="folder for adapter_config.json + adapter_model.safetensors")
    p.add_argument("--base-model", default=None, help="local folder, Hub id[@revision], or the offline default")
    p.add_argument("--max-steps", type=int, default=-1, help="stop after this many optimiser steps (-1: epochs)")
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--lr", type=float, default=1e-5)
    p.add_argument("--batch-size", type=int, default=1)
    p.add_argument("--grad-accum", type=int, default=1)
    p.add_argument("--max-source-length", type=int, default=4096)
    p.add_argument("--max-target-length", type=int, default=256)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--r", type=int, default=32, help="rank of each expert")
    p.add_argument("--alpha", type=float, default=32)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--role-experts", type=int, default=8)
    p.add_argument("--strategy-experts", type=int, default=8)
    p.add_argument("--embedding-dim", type=int, default=128)
    p.add_argument("--beta", type=float, default=0.4, help="weight of the role group (strategy group: 1 - beta)")
    p.add_argument("--gate-scope", choices=("global", "layer"), default="global")
    p.add_argument("--embedding-init", choices=("text", "learned"), default="text")
    p.add_argument("--text-encoder", default="all-minilm-l6-v2")
    p.add_argument("--lang", default="en", help="language of the role/strategy texts behind the embeddings")
    p.add_argument("--gradient-checkpointing", action="store_true")
    p.add_argument("--logging-steps", type=int, default=10)
    p.add_argument("--save-steps", type=int, default=None, help="also write adapter checkpoints every N steps")
    p.add_argument("--push-to-hub", default=None, metavar="REPO", help="upload the adapter to this Hub repo")
    p.add_argument("--private", action="store_true", help="create the Hub repo as private")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from empath.adapter import adapter_config, train
    from empath.hub import ModelResolutionError

    try:
        config = adapter_config(
            r=args.r, lora_alpha=args.alpha, lora_dropout=args.dropout, num_role_experts=args.role_experts,
            num_strategy_experts=args.strategy_experts, embedding_dim=args.embedding_dim, beta=args.beta,
            gate_scope=args.gate_scope, embedding_init=args.embedding_init, text_encoder=args.text_encoder,
            text_lang=args.lang,
        )
        train(
            args.base_model, args.data, args.out, config=config, data_format=args.format, max_steps=args.max_steps,
            num_train_epochs=args.epochs, learning_rate=args.lr, per_device_train_batch_size=args.batch_size,
            gradient_accumulation_steps=args.grad_accum, max_source_length=args.max_source_length,
            max_target_length=args.max_target_length, seed=args.seed, gradient_checkpointing=args.gradient_checkpointing,
            logging_steps=args.logging_steps, save_steps=args.save_steps, push_to_hub=args.push_to_hub,
            hub_private=args.private or None,
        )
    except (DataFileError, ModelResolutionError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"saved the adapter to {args.out}" + (f" and pushed it to {args.push_to_hub}" if args.push_to_hub else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
