"""The GPU path (a Space): the same code on CUDA in the dtype empath.hub.auto_device picks (bf16 on Ampere+).

CI has no GPU, so these skip there; run them on a GPU machine with ``python -m pytest tests/test_gpu.py``.
Tolerances are bf16's (8 bits of mantissa), relative to the output scale.
"""

from __future__ import annotations

import pytest
import torch

from empath.hub import auto_device

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def _on_gpu(model):
    device, dtype = auto_device()
    assert device == "cuda"
    return model.to(device=device, dtype=dtype), device, dtype


def _close(got, want, scale=0.03):
    err = (got.float() - want.float()).abs().max().item()
    assert err <= scale * want.float().abs().max().item() + 1e-3, f"max abs error {err}"


def test_mixed_route_batch_merge_and_generate_on_gpu():
    from tests.test_group_moelora import tiny_moelora, tokens

    model, device, dtype = _on_gpu(tiny_moelora("llama"))
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
    _close(merged, batched[:1])
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
