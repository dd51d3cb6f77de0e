"""Group MoELoRA on tiny Llama / Qwen2 / GPT-2 models built from configs (no downloads).

The adapters are built the way Empath builds them (``empath.adapter``: the role bank's and strategy bank's names and
texts, strategy aliases); the tuner alone, without the rest of ``empath``, is tested in test_group_moelora_standalone.py.
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from empath.group_moelora import (
    AdapterConfigError,
    AdapterLoadError,
    GroupMoELoraConfig,
    GroupMoELoraLayer,
    GroupMoELoraModel,
    RoutingError,
)
from empath.adapter import adapter_config, create_adapter, export_lora, load_adapter
from empath.roles import load_roles
from empath.strategies import STRATEGY_NAMES

torch.set_num_threads(1)
VOCAB = 64


class BagOfWordsEncoder:
    """Fast stand-in for a sentence encoder: hashed word vectors, summed and L2-normalised, so texts that share
    words get similar vectors (enough to test text-initialised embeddings without loading a real encoder)."""

    dim = 24

    def encode(self, texts):
        rows = []
        for text in texts:
            vec = np.zeros(self.dim, dtype=np.float32)
            for word in text.lower().split():
                seed = int.from_bytes(hashlib.md5(word.encode()).digest()[:4], "little")
                vec += np.random.default_rng(seed).normal(size=self.dim).astype(np.float32)
            rows.append(vec / max(np.linalg.norm(vec), 1e-9))
        return np.stack(rows)


ENCODER = BagOfWordsEncoder()


def tiny_base(arch: str, seed: int = 0):
    from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(seed)
    common = dict(vocab_size=VOCAB, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=2, max_position_embeddings=64)
    if arch == "llama":
        model = LlamaForCausalLM(LlamaConfig(**common))
    elif arch == "qwen2":
        model = Qwen2ForCausalLM(Qwen2Config(**common))
    elif arch == "gpt2":
        model = GPT2LMHeadModel(GPT2Config(vocab_size=VOCAB, n_embd=32, n_layer=2, n_head=4, n_positions=64))
    else:
        raise ValueError(arch)
    return model.eval()


def tiny_config(**overrides) -> GroupMoELoraConfig:
    values = dict(r=4, num_role_experts=3, num_strategy_experts=2, embedding_dim=8, lora_dropout=0.0,
                  init_lora_weights=False)
    values.update(overrides)
    return adapter_config(**values)


def tiny_moelora(arch: str = "llama", seed: int = 0, **overrides) -> GroupMoELoraModel:
    base = tiny_base(arch, seed)
    torch.manual_seed(seed + 1)
    return create_adapter(base, tiny_config(**overrides), encoder=ENCODER).eval()


def tokens(batch: int = 2, length: int = 6, seed: int = 0) -> torch.Tensor:
    return torch.randint(1, VOCAB, (batch, length), generator=torch.Generator().manual_seed(seed))


ROLES = load_roles().ids


# -- forward semantics --------------------------------------------------------------------------------

@pytest.mark.parametrize("arch", ["llama", "qwen2", "gpt2"])
def test_zero_initialised_B_gives_exactly_the_base_output(arch):
    base = tiny_base(arch)
    x = tokens()
    expected = base(input_ids=x).logits
    model = create_adapter(base, tiny_config(init_lora_weights=True), encoder=ENCODER)
    got = model(input_ids=x, role_ids=torch.tensor([0, 4]), strategy_ids=torch.tensor([1, 7])).logits
    assert torch.equal(got, expected)


def test_disable_adapter_runs_the_base_model_and_keeps_trainability():
    model = tiny_moelora("qwen2")
    x = tokens()
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    with torch.no_grad(), model.disable_adapter():
        disabled = model(input_ids=x).logits  # no route needed
    torch.testing.assert_close(disabled, tiny_base("qwen2")(input_ids=x).logits)
    assert {n for n, p in model.named_parameters() if p.requires_grad} == trainable


def naive_layer_forward(layer: GroupMoELoraLayer, model: GroupMoELoraModel, role_i: int, strategy_j: int, x):
    """Eq. 4-6 written out literally: one embedding row, two softmax gates, a Python loop over experts."""
    config = model.adapter_config
    gate = model.moelora_gate
    e_role, e_strategy = gate.embeddings("role")[role_i], gate.embeddings("strategy")[strategy_j]
    if config.gate_scope == "global":
        role_gate, strategy_gate = gate.role_gate.weight, gate.strategy_gate.weight
    else:
        role_gate, strategy_gate = layer.moelora_role_gate["default"].weight, layer.moelora_strategy_gate["default"].weight
    w_role, w_strategy = (role_gate @ e_role).softmax(-1), (strategy_gate @ e_strategy).softmax(-1)
    A, B, r = layer.moelora_A["default"], layer.moelora_B["default"], config.r
    out = layer.base_layer(x)
    for k in range(config.num_experts):
        A_k, B_k = A[k * r:(k + 1) * r], B[:, k * r:(k + 1) * r]
        weight = config.beta * w_role[k] if k < config.num_role_experts else (1 - config.beta) * w_strategy[k - config.num_role_experts]
        out = out + config.scaling * weight * (x @ A_k.T @ B_k.T)
    return out


@pytest.mark.parametrize("arch,scope", [("llama", "global"), ("qwen2", "layer"), ("gpt2", "global")])
def test_fused_forward_equals_naive_per_expert_reference(arch, scope, monkeypatch):
    model = tiny_moelora(arch, gate_scope=scope)
    x = tokens(batch=1)
    role_i, strategy_j = 5, 3
    with torch.no_grad():
        fused = model(input_ids=x, role_ids=[ROLES[role_i]], strategy_ids=[STRATEGY_NAMES[strategy_j]]).logits
        for _, layer in model.adapter_layers():
            monkeypatch.setattr(layer, "forward", lambda x, layer=layer: naive_layer_forward(layer, model, role_i, strategy_j, x))
        naive = model.model(input_ids=x).logits
    assert not torch.allclose(fused, tiny_base(arch)(input_ids=x).logits, atol=1e-3)  # the adapter does something
    torch.testing.assert_close(fused, naive, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("arch", ["llama", "gpt2"])
def test_mixed_batch_routes_each_sample_like_running_it_alone(arch):
    model = tiny_moelora(arch)
    x = tokens(batch=3)
    roles, strategies = ["juliet", "doraemon", "juliet"], torch.tensor([0, 5, 6])
    with torch.no_grad():
        batched = model(input_ids=x, role_ids=roles, strategy_ids=strategies).logits
        for i in range(3):
            alone = model(input_ids=x[i:i + 1], role_ids=roles[i], strategy_ids=strategies[i:i + 1]).logits
            torch.testing.assert_close(batched[i:i + 1], alone, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(batched[0], model(input_ids=x[:1], role_ids="harry_potter", strategy_ids=[0]).logits[0])


def test_probability_vectors_mix_embeddings_and_one_hot_equals_id():
    model = tiny_moelora()
    x = tokens(batch=1)
    n_roles, n_strategies = len(ROLES), len(STRATEGY_NAMES)
    one_hot = np.eye(n_roles, dtype=np.float32)[2]
    mix = np.full(n_roles, 1 / n_roles, dtype=np.float32)
    with torch.no_grad():
        by_id = model(input_ids=x, role_ids=[2], strategy_ids=[1]).logits
        by_vec = model(input_ids=x, role_weights=torch.tensor(one_hot)[None], strategy_weights=torch.eye(n_strategies)[1:2]).logits
        torch.testing.assert_close(by_id, by_vec)
        with model.route(role=mix, strategy=1):
            mixed = model(input_ids=x).logits
    assert not torch.allclose(mixed, by_id, atol=1e-4)
    # the mixture is taken over embeddings, so the gate sees the mean role embedding
    weights = model.gate_weights(role=mix.tolist(), strategy=1)
    e_mean = model.moelora_gate.embeddings("role").mean(0)
    torch.testing.assert_close(torch.from_numpy(weights["role"]), model.moelora_gate.role_gate(e_mean).softmax(-1).detach())
    assert weights["role"].shape == (3,) and weights["strategy"].shape == (2,)
    assert abs(weights["role"].sum() - 1) < 1e-5


def test_centred_text_features_give_the_average_route_uniform_gates_and_old_adapters_stay_uncentred(tmp_path):
    model = tiny_moelora()  # center_text_features defaults to True
    uniform = [1 / len(ROLES)] * len(ROLES)
    weights = model.gate_weights(role=uniform, strategy=[1 / len(STRATEGY_NAMES)] * len(STRATEGY_NAMES))
    np.testing.assert_allclose(weights["role"], 1 / 3, atol=1e-6)  # the shared direction is gone
    np.testing.assert_allclose(weights["strategy"], 1 / 2, atol=1e-6)
    assert not np.allclose(model.gate_weights(role="juliet", strategy=0)["role"], 1 / 3, atol=1e-3)
    uncentred = tiny_moelora(center_text_features=False)
    assert not np.allclose(uncentred.gate_weights(role=uniform, strategy=0)["role"], 1 / 3, atol=1e-3)
    # an adapter_config.json written before the option existed loads uncentred, as it was trained
    uncentred.save_pretrained(tmp_path)
    config_path = tmp_path / "adapter_config.json"
    config = json.loads(config_path.read_text())
    del config["center_text_features"]
    config_path.write_text(json.dumps(config))
    loaded = GroupMoELoraModel.from_pretrained(tiny_base("llama"), tmp_path)
    assert loaded.adapter_config.center_text_features is False
    np.testing.assert_allclose(loaded.gate_weights(role=uniform, strategy=0)["role"],
                               uncentred.gate_weights(role=uniform, strategy=0)["role"], atol=1e-6)


def test_route_context_manager_and_clear_errors():
    model = tiny_moelora()
    x = tokens(batch=2)
    with torch.no_grad():
        with model.route(role="juliet", strategy="Question"):
            in_context = model(input_ids=x).logits
            overridden = model(input_ids=x, strategy_ids=torch.tensor([3, 3])).logits
        explicit = model(input_ids=x, role_ids=["juliet"] * 2, strategy_ids=["Question"] * 2).logits
    torch.testing.assert_close(in_context, explicit)
    assert not torch.allclose(in_context, overridden)
    with pytest.raises(RoutingError, match="no role and no strategy given"):
        model(input_ids=x)
    with pytest.raises(RoutingError, match="valid roles: sun_wukong"):
        model(input_ids=x, role_ids="batman", strategy_ids=[0])
    with pytest.raises(RoutingError, match=r"shape \[8\]"):
        model(input_ids=x, role_ids=[0], strategy_weights=[0.5, 0.5])
    with pytest.raises(RoutingError, match="3 rows but the input batch has 2"):
        model(input_ids=x, role_ids=[0, 1, 2], strategy_ids=[0])
    # strategy aliases go through empath.strategies.normalize_strategy
    with torch.no_grad():
        alias = model(input_ids=x, role_ids=[0], strategy_ids="[Question]").logits
        canonical = model(input_ids=x, role_ids=[0], strategy_ids="Question").logits
    torch.testing.assert_close(alias, canonical)


def test_dropout_is_off_in_eval_mode():
    model = tiny_moelora(lora_dropout=0.5)
    x = tokens(batch=1)
    model.eval()
    with torch.no_grad():
        a = model(input_ids=x, role_ids=[0], strategy_ids=[0]).logits
        b = model(input_ids=x, role_ids=[0], strategy_ids=[0]).logits
    assert torch.equal(a, b)
    model.train()
    with torch.no_grad():
        c = model(input_ids=x, role_ids=[0], strategy_ids=[0]).logits
    assert not torch.allclose(a, c)


# -- merging --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("arch,scope", [("llama", "global"), ("gpt2", "layer")])
def test_merge_equals_unmerged_and_unmerge_restores(arch, scope):
    model = tiny_moelora(arch, gate_scope=scope)
    x = tokens(batch=2)
    before = {n: p.detach().clone() for n, p in model.model.named_parameters() if "base_layer" in n}
    with torch.no_grad():
        unmerged = model(input_ids=x, role_ids=["naruto_uzumaki"] * 2, strategy_ids=["Reflection of feelings"] * 2).logits
        model.merge("naruto_uzumaki", "Reflection of feelings")
        merged = model(input_ids=x).logits
        same_route = model(input_ids=x, role_ids="naruto_uzumaki", strategy_ids="Reflection of feelings").logits
        with pytest.raises(RoutingError, match="merged for another role"):
            model(input_ids=x, role_ids="juliet")
    torch.testing.assert_close(merged, unmerged, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(same_route, merged)
    model.unmerge()
    for name, param in model.model.named_parameters():
        if name in before:
            torch.testing.assert_close(param, before[name], atol=1e-6, rtol=0)
    plain = copy.deepcopy(model).merge_and_unload("naruto_uzumaki", "Reflection of feelings")
    assert not any(isinstance(m, GroupMoELoraLayer) for m in plain.modules())
    torch.testing.assert_close(plain(input_ids=x).logits, unmerged, atol=1e-5, rtol=1e-5)


# -- generate -------------------------------------------------------------------------------------------

def test_generate_mixed_batch_with_beams_matches_single_calls():
    model = tiny_moelora()
    x = tokens(batch=2, length=4)
    kwargs = dict(max_new_tokens=4, do_sample=False, num_beams=2, num_return_sequences=2, pad_token_id=0)
    roles, strategies = ["juliet", "conan_edogawa"], ["Question", "Affirmation and Reassurance"]
    batched = model.generate(input_ids=x, attention_mask=torch.ones_like(x), role_ids=roles, strategy_ids=strategies, **kwargs)
    assert batched.shape == (4, 8)
    for i in range(2):
        alone = model.generate(input_ids=x[i:i + 1], attention_mask=torch.ones_like(x[i:i + 1]), role_ids=roles[i],
                               strategy_ids=strategies[i], **kwargs)
        assert torch.equal(batched[2 * i:2 * i + 2], alone)


# -- training -------------------------------------------------------------------------------------------

def test_only_adapter_parameters_are_trainable():
    model = tiny_moelora("qwen2")
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all(("moelora_" in n) for n in trainable)
    assert {"moelora_gate.role_projection.weight", "moelora_gate.role_gate.weight"} <= trainable
    assert not any(p.requires_grad for n, p in model.named_parameters() if "base_layer" in n or "embed" in n)


def test_a_few_steps_make_the_output_depend_on_the_role():
    model = tiny_moelora(init_lora_weights=True, lora_dropout=0.1)
    prompt = tokens(batch=1, length=5, seed=3).repeat(2, 1)
    targets = {"juliet": 7, "conan_edogawa": 11}  # the same prompt must continue differently per role
    roles = list(targets)
    labels = torch.full((2, 6), -100)
    labels[:, -1] = torch.tensor([targets[r] for r in roles])
    input_ids = torch.cat([prompt, labels[:, -1:]], dim=1)
    optimiser = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=3e-2)
    model.train()
    for _ in range(40):
        loss = model(input_ids=input_ids, labels=labels, role_ids=roles, strategy_ids=[0, 0]).loss
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    model.eval()
    with torch.no_grad():
        for role, target in targets.items():
            logits = model(input_ids=prompt[:1], role_ids=role, strategy_ids=[0]).logits[0, -1]
            assert int(logits.argmax()) == target, role


def test_gradient_checkpointing_gives_the_same_gradients():
    x = tokens(batch=2)
    grads = []
    for checkpointing in (False, True):
        model = tiny_moelora()
        model.train()
        if checkpointing:
            with pytest.raises(ValueError, match="non-reentrant"):
                model.gradient_checkpointing_enable({"use_reentrant": True})
            model.gradient_checkpointing_enable()
            assert model.model.is_activation_checkpointing
        loss = model(input_ids=x, labels=x, role_ids=[1, 2], strategy_ids=[3, 4]).loss
        loss.backward()
        grads.append({n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad})
    assert grads[0].keys() == grads[1].keys() and all(g.abs().sum() > 0 for g in grads[1].values())
    for name in grads[0]:
        torch.testing.assert_close(grads[1][name], grads[0][name], atol=1e-6, rtol=1e-4)


# -- personas without retraining -----------------------------------------------------------------------

def test_new_role_from_profile_text_lands_nearest_the_most_similar_role():
    """A persona given only by text: its embedding is nearest to the trained role with the most similar profile;
    its gate weights follow, approximately (a random 8-expert gate does not preserve every distance)."""
    juliet = load_roles().get("juliet").profile_text("en").split()
    text = " ".join(juliet[: int(len(juliet) * 0.8)] + ["a", "young", "poet", "from", "verona"])
    gate_nearest = []
    for seed in range(5):
        model = tiny_moelora(seed=seed, num_role_experts=8, embedding_dim=32)
        index = model.add_role("romeo", text)
        assert model.role_names[index] == "romeo" and len(model.role_names) == len(ROLES) + 1
        table = F.normalize(model.moelora_gate.embeddings("role").detach(), dim=-1)
        assert ROLES[int((table[:-1] @ table[-1]).argmax())] == "juliet"
        new = model.gate_weights(role="romeo", strategy=0)["role"]
        distances = {r: np.abs(model.gate_weights(role=r, strategy=0)["role"] - new).sum() for r in ROLES}
        gate_nearest.append(min(distances, key=distances.get))
    assert gate_nearest.count("juliet") >= 4, gate_nearest
    with torch.no_grad():
        logits = model(input_ids=tokens(batch=1), role_ids="romeo", strategy_ids=[0]).logits
    assert torch.isfinite(logits).all()
    with pytest.raises(ValueError, match="already exists"):
        model.add_role("juliet", text)
    learned = tiny_moelora(embedding_init="learned")
    with pytest.raises(ValueError, match="embedding_init='text'"):
        learned.add_role("romeo", text)


# -- saving, loading, Hub -----------------------------------------------------------------------------

def test_save_load_round_trip_saves_only_the_adapter(tmp_path):
    from safetensors.torch import load_file

    model = tiny_moelora("gpt2", gate_scope="layer")
    model.add_role("romeo", "a young poet from verona in love")
    x = tokens(batch=2)
    with torch.no_grad():
        expected = model(input_ids=x, role_ids=["romeo", "juliet"], strategy_ids=[1, 2]).logits
    model.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "adapter_config.json").read_text())
    assert config["adapter_type"] == "GROUP_MOELORA" and config["role_names"][-1] == "romeo"
    saved = load_file(tmp_path / "adapter_model.safetensors")
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert all("moelora_" in k for k in saved)
    assert sum(v.numel() for k, v in saved.items() if "text_features" not in k) == sum(
        p.numel() for n, p in model.named_parameters() if n in trainable)
    loaded = GroupMoELoraModel.from_pretrained(tiny_base("gpt2", seed=0), tmp_path)
    assert not any(p.requires_grad for p in loaded.parameters())
    with torch.no_grad():
        got = loaded(input_ids=x, role_ids=["romeo", "juliet"], strategy_ids=[1, 2]).logits
    torch.testing.assert_close(got, expected)
    trainable_again = GroupMoELoraModel.from_pretrained(tiny_base("gpt2"), tmp_path, is_trainable=True)
    assert any(p.requires_grad for p in trainable_again.parameters())


def test_loading_errors_are_clear(tmp_path):
    model = tiny_moelora("llama")
    model.save_pretrained(tmp_path / "ok")
    with pytest.raises(AdapterLoadError, match="different base model"):
        GroupMoELoraModel.from_pretrained(tiny_base("qwen2"), tmp_path / "ok")
    # same architecture, narrower adapted layers (config identity stripped): caught by the shape check
    (tmp_path / "shapes").mkdir()
    data = json.loads((tmp_path / "ok" / "adapter_config.json").read_text())
    data["base_model_info"] = {}
    (tmp_path / "shapes" / "adapter_config.json").write_text(json.dumps(data))
    (tmp_path / "shapes" / "adapter_model.safetensors").write_bytes((tmp_path / "ok" / "adapter_model.safetensors").read_bytes())
    from transformers import LlamaConfig, LlamaForCausalLM

    other = LlamaForCausalLM(LlamaConfig(vocab_size=VOCAB, hidden_size=32, intermediate_size=40, num_hidden_layers=2,
                                         num_attention_heads=4, num_key_value_heads=2))
    with pytest.raises(AdapterLoadError, match="shapes do not fit"):
        GroupMoELoraModel.from_pretrained(other, tmp_path / "shapes")
    # a truncated weights file
    (tmp_path / "corrupt").mkdir()
    (tmp_path / "corrupt" / "adapter_config.json").write_text((tmp_path / "ok" / "adapter_config.json").read_text())
    (tmp_path / "corrupt" / "adapter_model.safetensors").write_bytes((tmp_path / "ok" / "adapter_model.safetensors").read_bytes()[:200])
    with pytest.raises(AdapterLoadError, match="corrupt or truncated"):
        GroupMoELoraModel.from_pretrained(tiny_base("llama"), tmp_path / "corrupt")
    # a plain PEFT LoRA folder is not a Group MoELoRA adapter
    (tmp_path / "lora").mkdir()
    (tmp_path / "lora" / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA"}))
    with pytest.raises(AdapterConfigError, match="not a Group MoELoRA config"):
        GroupMoELoraModel.from_pretrained(tiny_base("llama"), tmp_path / "lora")


def test_hub_load_and_push_use_snapshot_and_upload_folder(tmp_path, monkeypatch):
    import huggingface_hub

    import empath.hub

    model = tiny_moelora("qwen2")
    model.save_pretrained(tmp_path / "repo")
    calls = {}

    def fake_snapshot(repo_id, revision=None, **kwargs):
        calls["snapshot"] = (repo_id, revision)
        return tmp_path / "repo"

    monkeypatch.setattr(empath.hub, "snapshot", fake_snapshot)
    loaded = load_adapter(tiny_base("qwen2"), "someone/empath-adapter", revision="abc123")
    assert calls["snapshot"] == ("someone/empath-adapter", "abc123")
    x = tokens(batch=1)
    with torch.no_grad():
        torch.testing.assert_close(loaded(input_ids=x, role_ids=[0], strategy_ids=[0]).logits,
                                   model(input_ids=x, role_ids=[0], strategy_ids=[0]).logits)

    class FakeApi:
        def __init__(self, token=None):
            calls["token"] = token

        def create_repo(self, repo_id, private=None, exist_ok=False):
            calls["create_repo"] = (repo_id, private, exist_ok)

        def upload_folder(self, repo_id, folder_path, commit_message, revision=None, create_pr=False):
            calls["uploaded"] = sorted(p.name for p in Path(folder_path).iterdir())
            return "commit-url"

    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    assert model.push_to_hub("someone/empath-adapter", private=True, token="t") == "commit-url"
    assert calls["create_repo"] == ("someone/empath-adapter", True, True)
    assert calls["uploaded"] == ["README.md", "adapter_config.json", "adapter_model.safetensors"]


# -- export to plain LoRA ------------------------------------------------------------------------------

@pytest.mark.parametrize("arch,scope", [("llama", "global"), ("gpt2", "layer")])
def test_exported_lora_reproduces_the_route_through_peft(tmp_path, arch, scope):
    from peft import PeftModel

    model = tiny_moelora(arch, gate_scope=scope)
    model.save_pretrained(tmp_path / "adapter")
    x = tokens(batch=2)
    with torch.no_grad():
        expected = model(input_ids=x, role_ids="doraemon", strategy_ids="Self-disclosure").logits
    report = export_lora(tmp_path / "adapter", "doraemon", "Self-disclosure", tmp_path / "lora")
    assert report["exact"] and report["rank"] == 5 * 4 and report["relative_error"] == 0.0
    lora = PeftModel.from_pretrained(tiny_base(arch), str(tmp_path / "lora")).eval()
    with torch.no_grad():
        torch.testing.assert_close(lora(input_ids=x).logits, expected, atol=1e-5, rtol=1e-5)

    truncated = export_lora(tmp_path / "adapter", "doraemon", "Self-disclosure", tmp_path / "lora4", rank=4)
    assert not truncated["exact"] and truncated["rank"] == 4
    assert 0.0 < truncated["relative_error"] < 1.0
    lora4 = PeftModel.from_pretrained(tiny_base(arch), str(tmp_path / "lora4")).eval()
    assert json.loads((tmp_path / "lora4" / "adapter_config.json").read_text())["r"] == 4
    with torch.no_grad():
        error = (lora4(input_ids=x).logits - expected).abs().max()
    assert error > 0  # rank 4 < 20 loses something, and the report said so


def test_export_verifies_against_the_base_model(tmp_path):
    base = tiny_base("llama")
    base.save_pretrained(tmp_path / "base")
    from transformers import AutoModelForCausalLM

    model = create_adapter(AutoModelForCausalLM.from_pretrained(tmp_path / "base"), tiny_config(), encoder=ENCODER)
    assert model.adapter_config.base_model_name_or_path == str(tmp_path / "base")
    model.save_pretrained(tmp_path / "adapter")
    report = export_lora(tmp_path / "adapter", "sun_wukong", "Question", tmp_path / "lora", verify=True)
    assert report["base_model_name_or_path"] == str(tmp_path / "base")
    assert report["max_abs_logit_diff"] < 1e-4
    assert json.loads((tmp_path / "lora" / "empath_export.json").read_text())["role"] == "sun_wukong"
