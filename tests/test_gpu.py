"""The GPU path (a Space): the same code on CUDA in the dtype empath.hub.auto_device picks (bf16 on Ampere+).

CI has no GPU, so these skip there; run them on a GPU machine with ``python -m pytest tests/test_gpu.py``.
Tolerances are bf16's (8 bits of mantissa), relative to the output scale.
"""

from __future__ import annotations

import copy

import pytest
import torch

from empath.hub import auto_device

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def _on_gpu(model):
    device, dtype = auto_device()
    assert device == "cuda"
    return model.to(device=device, dtype=dtype), device, dtype


def _max_error(got, want):
    return (got.float().cpu() - want.float().cpu()).abs().max().item()


def _close(got, want, scale=0.03):
    err = _max_error(got, want)
    assert err <= scale * want.float().abs().max().item() + 1e-3, f"max abs error {err}"


def test_mixed_route_batch_merge_and_generate_on_gpu():
    from tests.test_group_moelora import tiny_moelora, tokens

    reference = tiny_moelora("llama").eval()  # float32 on the CPU
    model, device, dtype = _on_gpu(copy.deepcopy(reference))
    assert next(model.parameters()).dtype == dtype
    x = tokens(batch=3).to(device)
    roles, strategies = ["juliet", "doraemon", "juliet"], [0, 5, 6]
    with torch.no_grad():
        batched = model(input_ids=x, role_ids=roles, strategy_ids=strategies).logits
        for i in range(3):
            alone = model(input_ids=x[i:i + 1], role_ids=roles[i], strategy_ids=strategies[i:i + 1]).logits
            _close(batched[i:i + 1], alone)
        other_route = model(input_ids=x[:1], role_ids="harry_potter", strategy_ids=[0]).logits
        assert not torch.allclose(batched[:1], other_route)
        model.merge("juliet", 0)
        merged = model(input_ids=x[:1]).logits
        model.unmerge()
        want = reference(input_ids=x[:1].cpu(), role_ids="juliet", strategy_ids=[0]).logits
    # merging rounds W0 + update to bf16 once more, so the merged route may sit a little further from the float32
    # reference than the fused one does, but within bf16's own error of the same size
    fused_err, merged_err = (_max_error(out, want) for out in (batched[:1], merged))
    print(f"tiny model, max abs error against float32: fused {fused_err:.4f}, merged {merged_err:.4f}, "
          f"output scale {want.abs().max().item():.3f}")
    _close(batched[:1].cpu(), want, scale=0.05)
    _close(merged.cpu(), want, scale=0.1)
    out = model.generate(input_ids=x, attention_mask=torch.ones_like(x), role_ids=roles, strategy_ids=strategies,
                         max_new_tokens=4, do_sample=False, pad_token_id=0)
    assert out.shape == (3, x.shape[1] + 4) and out.device.type == "cuda"


def test_adapter_trains_in_bf16_autocast_and_round_trips(tmp_path):
    from empath.group_moelora import GroupMoELoraModel
    from tests.test_group_moelora import tiny_base, tiny_moelora, tokens

    model = tiny_moelora("qwen2").cuda().train()
    x = tokens(batch=4, length=8).cuda()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    losses = []
    for _ in range(20):
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = model(input_ids=x, labels=x, role_ids=["juliet"] * 4, strategy_ids=[1] * 4).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    model.eval().save_pretrained(tmp_path)
    loaded = GroupMoELoraModel.from_pretrained(tiny_base("qwen2").cuda(), tmp_path)
    with torch.no_grad():
        want = model(input_ids=x, role_ids="juliet", strategy_ids=1).logits
        got = loaded(input_ids=x, role_ids="juliet", strategy_ids=1).logits
    torch.testing.assert_close(got, want)


def test_pipeline_turn_runs_on_gpu_with_the_auto_dtype():
    from empath.generation import SamplingSettings
    from empath.pipeline import Conversation
    from tests.test_pipeline import make_pipeline

    pipe, parts = make_pipeline()
    generator = parts["generator"]
    generator.model, _, dtype = _on_gpu(generator.model)
    result = pipe.respond(Conversation(), "My boyfriend left me and I can't stop crying.",
                          settings=SamplingSettings(max_new_tokens=6, seed=0))
    assert result.role == "juliet" and result.strategy == "Reflection of feelings"
    assert result.response.strip() and next(generator.model.parameters()).dtype == dtype


def _cosine(a, b):
    a, b = a.float().cpu().flatten(), b.float().cpu().flatten()
    return (a @ b / (a.norm() * b.norm())).item()


def test_the_shipped_adapter_keeps_its_effect_when_merged_in_the_auto_dtype(tmp_path):
    """The app's default adapter on SmolLM2-135M's architecture, loaded the app's way (``load_causal_lm``: CUDA and
    bf16 by itself): a route merged into half-precision weights changes the logits as the fused route does and as
    the float32 reference on the CPU does. The base weights are random (the GGUF does not travel to a GPU machine
    here), so this checks the adapter arithmetic, not the replies."""
    import shutil

    from transformers import AutoConfig, AutoModelForCausalLM

    from empath.adapter import load_adapter
    from empath.generation import ChatGenerator, SamplingSettings
    from empath.group_moelora.routing import Route
    from empath.hub import DEFAULT_ADAPTER, DEFAULT_BASE_MODEL, cache_dir, load_causal_lm

    source = cache_dir() / "models" / DEFAULT_BASE_MODEL
    if not (source / "config.json").exists() or not (source / "tokenizer.json").exists():
        pytest.skip(f"no {DEFAULT_BASE_MODEL} config and tokenizer in {source} (run `make models`)")
    torch.manual_seed(0)
    random_base = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(source)).eval()
    random_base.save_pretrained(tmp_path, safe_serialization=True)
    for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "generation_config.json"):
        if (source / name).exists():
            shutil.copy(source / name, tmp_path / name)

    model, tokenizer = load_causal_lm(tmp_path)
    device, dtype = auto_device()
    assert next(model.parameters()).device.type == device and next(model.parameters()).dtype == dtype
    reference = load_adapter(copy.deepcopy(random_base).float(), DEFAULT_ADAPTER).eval()
    adapted = load_adapter(model, DEFAULT_ADAPTER).eval()
    route = Route("juliet", "Reflection of feelings")
    ids = tokenizer.apply_chat_template([{"role": "user", "content": "My girlfriend left me and I can't stop crying."}],
                                        add_generation_prompt=True, return_tensors="pt", return_dict=True)["input_ids"]

    with torch.no_grad():
        with reference.route(**route.as_kwargs()):
            want = reference(input_ids=ids).logits
        with reference.disable_adapter():
            want_delta = want - reference(input_ids=ids).logits
        x = ids.to(device)
        with adapted.disable_adapter():
            base_logits = adapted(input_ids=x).logits
        with adapted.route(**route.as_kwargs()):
            fused = adapted(input_ids=x).logits
        generator = ChatGenerator(adapted, tokenizer, merge_routes=True)
        with generator.routed(route) as merged_model:
            assert adapted.merged_route is not None
            merged = merged_model(input_ids=x).logits
        with generator.routed(None):  # back to the base: the merged update leaves the weights exactly
            restored = adapted(input_ids=x).logits
    fused_cos, merged_cos = _cosine(fused - base_logits, want_delta), _cosine(merged - base_logits, want_delta)
    print(f"adapter effect, cosine with the float32 CPU reference: fused {fused_cos:.4f}, merged {merged_cos:.4f}; "
          f"max abs error merged vs fused {_max_error(merged, fused):.4f}, logit scale {fused.abs().max().item():.2f}")
    assert fused_cos >= 0.95 and merged_cos >= 0.95
    _close(merged, fused, scale=0.05)
    torch.testing.assert_close(restored, base_logits)

    reply = "".join(generator.stream([{"role": "user", "content": "I failed my exam."}],
                                     SamplingSettings(max_new_tokens=8, temperature=0.0), route=route))
    assert isinstance(reply, str)
