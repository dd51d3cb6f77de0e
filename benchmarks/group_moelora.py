"""Group MoELoRA speed, measured side by side in one run (same process, same shapes, interleaved rounds, medians).

    python -m benchmarks.group_moelora            # Llama-style, hidden 2048, 2 layers, r 32, 8 + 8 experts, 2 threads
    python -m benchmarks.group_moelora --quick    # tiny smoke run

Variants, all on identical base weights: the base model; Group MoELoRA fused (this library); the same experts run as
a per-expert Python loop (the way MOELoRA-peft / Neeko compute it); Group MoELoRA merged for one route; a PEFT LoRA of
the same total rank (E·r); a PEFT LoRA of rank r holding the route's truncated-SVD update (single-route serving via
``export_lora(rank=r)``). Timed for a prefill forward and for one decode step with a KV cache, plus a mixed-route
batch of 8 against 8 sequential single-route decode calls. The model has only a few decoder layers and a small
vocabulary so that it fits the shared CPU; the ratios concern the decoder layers, where the adapters live.
"""

from __future__ import annotations

import argparse
import copy
import random
import statistics
import time

import torch
import torch.nn.functional as F

from empath.group_moelora import GroupMoELoraConfig, get_group_moelora_model
from empath.group_moelora.export import route_lora_factors


def build(args):
    from peft import LoraConfig, get_peft_model, set_peft_model_state_dict
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=args.vocab, hidden_size=args.hidden, intermediate_size=args.intermediate,
        num_hidden_layers=args.layers, num_attention_heads=args.hidden // 64, num_key_value_heads=max(1, args.hidden // 512),
        max_position_embeddings=4096,
    )
    torch.manual_seed(0)
    base = LlamaForCausalLM(config).eval()
    roles = [f"role{i}" for i in range(9)]
    strategies = [f"strategy{i}" for i in range(8)]
    moe_config = GroupMoELoraConfig(
        r=args.rank, lora_alpha=32, lora_dropout=0.0, num_role_experts=args.experts, num_strategy_experts=args.experts,
        role_names=roles, strategy_names=strategies, embedding_init="learned", init_lora_weights=False,
    )
    fused = get_group_moelora_model(copy.deepcopy(base), moe_config).eval()
    with torch.no_grad():  # small, trained-looking updates instead of B = 0
        for _, layer in fused.adapter_layers():
            layer.moelora_B["default"].mul_(0.02)
    merged = copy.deepcopy(fused)
    merged.merge(roles[1], strategies[2])

    total_rank = moe_config.num_experts * moe_config.r
    state = fused.adapter_state_dict()
    factors_svd, svd_report = route_lora_factors(moe_config, state, roles[1], strategies[2], rank=args.rank)
    targets = sorted({name.rsplit(".", 1)[-1] for name, _ in fused.adapter_layers()})
    peft = get_peft_model(copy.deepcopy(base), LoraConfig(r=total_rank, lora_alpha=32, target_modules=targets, init_lora_weights=False), adapter_name="equal_rank")
    peft.add_adapter("svd", LoraConfig(r=args.rank, lora_alpha=args.rank, target_modules=targets))
    set_peft_model_state_dict(peft, {f"base_model.model.{n}.lora_{ab}.weight": t for n, (a, b) in factors_svd.items() for ab, t in (("A", a), ("B", b))}, adapter_name="svd")
    peft.eval()
    return base, fused, merged, peft, roles, strategies, svd_report


def per_expert_loops(fused):
    """Re-run the same experts the peers' way, with a Python loop over experts in every layer:
    ``"functional"`` keeps each expert as two contiguous tensors and calls F.linear (the leanest possible loop);
    ``"modules"`` mirrors MOELoRA-peft's layer (an nn.Linear pair per expert, dropout module, scaling and expert
    weight applied per expert)."""
    for _, layer in fused.adapter_layers():
        A, B, r = layer.moelora_A["default"].detach(), layer.moelora_B["default"].detach(), layer.r
        tensors = [(A[k * r:(k + 1) * r].clone(), B[:, k * r:(k + 1) * r].contiguous()) for k in range(layer.num_experts)]
        lora_A = torch.nn.ModuleList(torch.nn.Linear(A.shape[1], r, bias=False) for _ in tensors)
        lora_B = torch.nn.ModuleList(torch.nn.Linear(r, B.shape[0], bias=False) for _ in tensors)
        with torch.no_grad():
            for k, (A_k, B_k) in enumerate(tensors):
                lora_A[k].weight.copy_(A_k)
                lora_B[k].weight.copy_(B_k)
        dropout = torch.nn.Dropout(0.0).eval()

        def functional(x, layer=layer, tensors=tensors):
            result = layer.base_layer(x)
            weights = layer.coefficients_for(layer._route)[0]
            for k, (A_k, B_k) in enumerate(tensors):
                result = result + weights[k] * F.linear(F.linear(x, A_k), B_k)
            return result

        def modules(x, layer=layer, lora_A=lora_A, lora_B=lora_B, dropout=dropout):
            result = layer.base_layer(x)
            weights = layer.coefficients_for(layer._route) / layer.scaling  # per-expert gate weights [b, E]
            for k in range(len(lora_A)):
                result = result + lora_B[k](lora_A[k](dropout(x))) * layer.scaling * weights[:, k].view(-1, 1, 1)
            return result

        layer._loops = {"functional": functional, "modules": modules}


class use_loop:
    def __init__(self, fused, kind: str):
        self.layers, self.kind = [layer for _, layer in fused.adapter_layers()], kind

    def __enter__(self):
        for layer in self.layers:
            layer.forward = layer._loops[self.kind]

    def __exit__(self, *exc):
        for layer in self.layers:
            del layer.forward


def interleaved_medians(fns: dict, rounds: int, warmup: int = 2) -> dict:
    """Median seconds per variant; every round runs each variant once, in a freshly shuffled order, so that load
    from other processes and position effects fall on all variants alike."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in fns}
    order = list(fns)
    shuffler = random.Random(0)
    for _ in range(rounds):
        shuffler.shuffle(order)
        for name in order:
            fn = fns[name]
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny shapes, few rounds (smoke run)")
    parser.add_argument("--hidden", type=int, default=2048)
    parser.add_argument("--intermediate", type=int, default=5632)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--vocab", type=int, default=2048)
    parser.add_argument("--rank", type=int, default=32)
    parser.add_argument("--experts", type=int, default=8, help="experts per group")
    parser.add_argument("--prefill", type=int, default=128, help="prompt length")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args(argv)
    if args.quick:
        args.hidden, args.intermediate, args.layers, args.vocab, args.prefill = 256, 512, 1, 256, 16
    rounds_prefill = args.rounds or (3 if args.quick else 7)
    rounds_decode = args.rounds or (5 if args.quick else 41)
    torch.set_num_threads(args.threads)
    started = time.perf_counter()

    base, fused, merged, peft, roles, strategies, svd_report = build(args)
    per_expert_loops(fused)
    route = dict(role_ids=[roles[1]], strategy_ids=[strategies[2]])
    prompt = torch.randint(0, args.vocab, (1, args.prefill), generator=torch.Generator().manual_seed(1))
    step = torch.randint(0, args.vocab, (1, 1), generator=torch.Generator().manual_seed(2))

    def run_fused(**kw):
        return fused(**kw, **route)

    def run_loop(kind):
        def call(**kw):
            with use_loop(fused, kind):
                return fused(**kw, **route)
        return call

    def run_peft(adapter):
        def call(**kw):
            peft.set_adapter(adapter)
            return peft(**kw)
        return call

    variants = {
        "base": base, "fused": run_fused, "per-expert loop (F.linear)": run_loop("functional"),
        "per-expert loop (nn.Linear modules, MOELoRA-peft style)": run_loop("modules"), "merged": merged,
        "PEFT LoRA (rank E·r)": run_peft("equal_rank"), "SVD LoRA (rank r)": run_peft("svd"),
    }

    with torch.inference_mode():
        # Output checks: the loop computes the same function; the SVD route is an approximation.
        base_logits = base(input_ids=prompt).logits
        fused_logits = run_fused(input_ids=prompt).logits
        loop_diff = max(float((run_loop(kind)(input_ids=prompt).logits - fused_logits).abs().max()) for kind in ("functional", "modules"))
        merged_diff = float((merged(input_ids=prompt).logits - fused_logits).abs().max())
        delta = fused_logits - base_logits
        svd_delta = run_peft("svd")(input_ids=prompt).logits - base_logits
        svd_logit_error = float((svd_delta - delta).norm() / delta.norm())

        prefill = interleaved_medians({n: (lambda f=f: f(input_ids=prompt)) for n, f in variants.items()}, rounds_prefill)

        caches = {n: f(input_ids=prompt, use_cache=True).past_key_values for n, f in variants.items()}

        def decode(name, fn):
            def call():
                fn(input_ids=step, past_key_values=caches[name], use_cache=True)
                caches[name].crop(-1)  # drop the step just added: the cache length stays fixed across rounds
            return call

        decode_times = interleaved_medians({n: decode(n, f) for n, f in variants.items()}, rounds_decode)

        # Mixed-route batch of 8 (8 different role/strategy pairs) vs the same 8 as sequential single-route calls.
        batch_roles = [roles[i % len(roles)] for i in range(8)]
        batch_strategies = [strategies[(3 * i) % len(strategies)] for i in range(8)]
        batch_prompt = prompt.repeat(8, 1)
        batch_cache = fused(input_ids=batch_prompt, role_ids=batch_roles, strategy_ids=batch_strategies, use_cache=True).past_key_values
        single_caches = [fused(input_ids=prompt, role_ids=[batch_roles[i]], strategy_ids=[batch_strategies[i]], use_cache=True).past_key_values for i in range(8)]
        batch_step = step.repeat(8, 1)

        def mixed_batch():
            fused(input_ids=batch_step, past_key_values=batch_cache, use_cache=True, role_ids=batch_roles, strategy_ids=batch_strategies)
            batch_cache.crop(-1)

        def sequential():
            for i in range(8):
                fused(input_ids=step, past_key_values=single_caches[i], use_cache=True, role_ids=[batch_roles[i]], strategy_ids=[batch_strategies[i]])
                single_caches[i].crop(-1)

        # The same comparison for the base model alone: how much batching a decode step buys on this CPU at all.
        base_batch_cache = base(input_ids=batch_prompt, use_cache=True).past_key_values
        base_single_cache = base(input_ids=prompt, use_cache=True).past_key_values

        def base_batch():
            base(input_ids=batch_step, past_key_values=base_batch_cache, use_cache=True)
            base_batch_cache.crop(-1)

        def base_sequential():
            for _ in range(8):
                base(input_ids=step, past_key_values=base_single_cache, use_cache=True)
                base_single_cache.crop(-1)

        mixed = interleaved_medians(
            {"mixed batch of 8": mixed_batch, "8 sequential calls": sequential,
             "base batch of 8": base_batch, "base 8 sequential": base_sequential},
            max(3, rounds_decode // 3),
        )

    def ratio(a, b, table):
        return table[a] / table[b]

    n_layers = sum(1 for _ in fused.adapter_layers())
    print(f"\nGroup MoELoRA benchmark: Llama-style, hidden {args.hidden}, intermediate {args.intermediate}, "
          f"{args.layers} decoder layers ({n_layers} adapted projections), vocab {args.vocab}, r {args.rank}, "
          f"{args.experts} + {args.experts} experts (total rank {2 * args.experts * args.rank}), prefill {args.prefill} tokens, "
          f"{args.threads} CPU threads, medians of {rounds_prefill} (prefill) / {rounds_decode} (decode) interleaved rounds.\n")
    print("| variant | prefill ms | decode step ms |")
    print("|---|---:|---:|")
    for name in variants:
        print(f"| {name} | {prefill[name] * 1e3:.1f} | {decode_times[name] * 1e3:.2f} |")
    for name in mixed:
        print(f"| {name} (decode) | | {mixed[name] * 1e3:.2f} |")

    rows = [
        ("fused vs per-expert loop, F.linear (speed-up)", ratio("per-expert loop (F.linear)", "fused", prefill), ratio("per-expert loop (F.linear)", "fused", decode_times), "decode ≥ 1.3×"),
        ("fused vs per-expert loop, modules (speed-up)", ratio("per-expert loop (nn.Linear modules, MOELoRA-peft style)", "fused", prefill), ratio("per-expert loop (nn.Linear modules, MOELoRA-peft style)", "fused", decode_times), "decode ≥ 1.3×"),
        ("fused vs base (time ratio)", ratio("fused", "base", prefill), ratio("fused", "base", decode_times), "—"),
        ("merged vs base (time ratio)", ratio("merged", "base", prefill), ratio("merged", "base", decode_times), "≤ 1.02×"),
        ("fused vs PEFT LoRA of rank E·r (time ratio)", ratio("fused", "PEFT LoRA (rank E·r)", prefill), ratio("fused", "PEFT LoRA (rank E·r)", decode_times), "≤ 1.05×"),
        ("SVD LoRA rank r vs fused (time ratio)", ratio("SVD LoRA (rank r)", "fused", prefill), ratio("SVD LoRA (rank r)", "fused", decode_times), "—"),
    ]
    print("\n| comparison | prefill | decode step | target |")
    print("|---|---:|---:|---|")
    for name, p, d, target in rows:
        print(f"| {name} | {p:.3f}× | {d:.3f}× | {target} |")
    throughput = mixed["8 sequential calls"] / mixed["mixed batch of 8"]
    base_throughput = mixed["base 8 sequential"] / mixed["base batch of 8"]
    print(f"| mixed-route batch of 8 vs 8 sequential calls (decode throughput) | | {throughput:.2f}× | ≥ 3× |")
    print(f"| reference: base model, batch of 8 vs 8 sequential calls (decode throughput) | | {base_throughput:.2f}× | — |")
    print(f"\nChecks: per-expert loops max |Δlogit| vs fused {loop_diff:.2e}; merged max |Δlogit| vs fused {merged_diff:.2e}; "
          f"SVD rank {args.rank}: relative ΔW error {svd_report['relative_error']:.3f} (random experts; trained ones are "
          f"typically lower-rank), relative error of the adapter's logit change {svd_logit_error:.3f}.")
    print(f"Total run time {time.perf_counter() - started:.0f} s.")


if __name__ == "__main__":
    main()
