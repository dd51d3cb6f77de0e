"""``empath.group_moelora`` is a standalone tuner: it works with every other ``empath`` module unavailable.

How: a fresh Python process (a subprocess, so this test's own imports cannot hide a dependency) first puts a finder
at the front of ``sys.meta_path`` that refuses every ``empath.*`` module outside ``empath.group_moelora``. The
top-level ``empath/__init__.py`` is allowed: Python must run it to reach the subpackage, and it only sets
``__version__`` — were it to import another ``empath`` module, the finder would refuse that too and the test would
fail. The process then imports every tuner module, builds a text-initialised adapter on a tiny Llama with caller
supplied route names, texts and encoder, routes it (ids, a :class:`Route`, weights), saves, loads, exports a route
and checks that no other ``empath`` module was ever imported. A static scan adds the imports inside functions
that this run does not reach.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "empath" / "group_moelora"

SCRIPT = textwrap.dedent(
    '''
    import importlib.abc
    import sys


    class BlockEmpath(importlib.abc.MetaPathFinder):
        """Refuses every empath module except the top-level package and the tuner."""

        def find_spec(self, name, path=None, target=None):
            if name.startswith("empath.") and not (name == "empath.group_moelora" or name.startswith("empath.group_moelora.")):
                raise ImportError(f"blocked for this test: {name}")
            return None


    sys.meta_path.insert(0, BlockEmpath())

    import numpy as np
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    import empath.group_moelora.export
    import empath.group_moelora.training
    from empath.group_moelora import GroupMoELoraConfig, GroupMoELoraModel, Route, get_group_moelora_model
    from empath.group_moelora.export import export_lora

    torch.manual_seed(0)
    base = LlamaForCausalLM(LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                                        num_attention_heads=4, num_key_value_heads=2)).eval()
    roles, strategies = ["knight", "sage"], ["Ask", "Comfort", "Advise"]


    def encode(texts):  # the caller's text encoder: any callable texts -> [n, dim]
        return np.stack([np.random.default_rng(len(t)).normal(size=8) for t in texts]).astype(np.float32)


    config = GroupMoELoraConfig(r=2, num_role_experts=2, num_strategy_experts=2, embedding_dim=4, lora_dropout=0.0,
                                init_lora_weights=False, role_names=roles, strategy_names=strategies)
    model = get_group_moelora_model(base, config, encoder=encode, role_texts=["a brave knight", "an old sage"],
                                    strategy_texts=["asks", "comforts gently", "gives advice"],
                                    label_resolvers={"strategy": {"question": "Ask"}.get}).eval()
    x = torch.randint(1, 64, (2, 5), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        mixed = model(input_ids=x, role_ids=roles, strategy_ids=["Ask", "Advise"]).logits
        with model.route(**Route("sage", "Advise").as_kwargs()):
            routed = model(input_ids=x[1:]).logits
        alias = model(input_ids=x[:1], role_ids="knight", strategy_ids="question").logits
        uniform = model(input_ids=x[:1], role_ids="knight", strategy_weights=list(Route.uniform("knight", 3).strategy))
    torch.testing.assert_close(routed, mixed[1:])
    torch.testing.assert_close(alias, mixed[:1])
    assert torch.isfinite(uniform.logits).all()
    ids = model.generate(input_ids=x[:1], role_ids="sage", strategy_ids="Comfort", max_new_tokens=3, do_sample=False)
    assert ids.shape == (1, 8)
    weights = model.gate_weights(role="sage", strategy="Comfort")
    assert weights["role"].shape == (2,) and abs(float(weights["strategy"].sum()) - 1) < 1e-5
    assert model.add_role("squire", "a young knight") == 2

    model.save_pretrained(sys.argv[1])
    loaded = GroupMoELoraModel.from_pretrained(model.unload(), sys.argv[1])
    with torch.no_grad():
        torch.testing.assert_close(loaded(input_ids=x, role_ids=roles, strategy_ids=["Ask", "Advise"]).logits, mixed)
    report = export_lora(sys.argv[1], "squire", "Comfort", sys.argv[1] + "-lora")
    assert report["exact"] and report["rank"] == 8

    others = sorted(m for m in sys.modules if m.startswith("empath.") and not m.startswith("empath.group_moelora"))
    assert not others, others
    print("standalone ok")
    '''
)


@pytest.mark.timeout(600)
def test_the_tuner_runs_with_the_rest_of_empath_blocked(tmp_path):
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "adapter")], capture_output=True, text=True,
                            cwd=PACKAGE.parent.parent, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "standalone ok" in result.stdout


def _empath_imports(path: Path) -> list[str]:
    """Every absolute ``empath.*`` module a file imports (anywhere, including inside functions)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append(node.module)
    return [name for name in found if name == "empath" or name.startswith("empath.")]


def test_no_tuner_module_imports_the_rest_of_empath():
    offenders = {path.name: names for path in sorted(PACKAGE.glob("*.py"))
                 if (names := [n for n in _empath_imports(path) if not n.startswith("empath.group_moelora")])}
    assert not offenders, offenders


def test_a_hub_adapter_is_fetched_with_huggingface_hub_and_the_pinned_revision(tmp_path, monkeypatch):
    """Without Empath's own Hub helper the tuner downloads through ``huggingface_hub.snapshot_download``."""
    import huggingface_hub
    import torch

    from empath.group_moelora import GroupMoELoraConfig, GroupMoELoraModel, get_group_moelora_model
    from tests._tiny import tiny_llama

    config = GroupMoELoraConfig(r=2, num_role_experts=2, num_strategy_experts=2, embedding_dim=4,
                                embedding_init="learned", role_names=["a", "b"], strategy_names=["x", "y"])
    torch.manual_seed(0)
    get_group_moelora_model(tiny_llama(32), config).save_pretrained(tmp_path)
    calls = []

    def fake_snapshot_download(repo_id, revision=None, allow_patterns=None, **kwargs):
        calls.append((repo_id, revision, allow_patterns))
        return str(tmp_path)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot_download)
    loaded = GroupMoELoraModel.from_pretrained(tiny_llama(32), "someone/adapter@abc123", revision="ignored")
    assert loaded.role_names == ["a", "b"]
    assert calls[0][:2] == ("someone/adapter", "abc123")  # a revision in the id wins
    assert "adapter_model.safetensors" in calls[0][2] and not any(p.endswith((".bin", ".pt")) for p in calls[0][2])
