"""python -m training.train_all on tiny.yaml with a tiny random base model: every stage, then every stage skipped."""

from __future__ import annotations

import json

import pytest

from empath._data import REPO_ROOT


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory):
    from tests._tiny import smollm_tokenizer, tiny_llama

    folder = tmp_path_factory.mktemp("tiny-base")
    tok = smollm_tokenizer()
    tiny_llama(len(tok)).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def test_tiny_train_all_runs_every_stage_then_skips_them(tiny_base, tmp_path, capsys, monkeypatch):
    from training.train_all import main

    monkeypatch.setenv("EMPATH_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "run"
    argv = ["--config", str(REPO_ROOT / "training" / "configs" / "tiny.yaml"), "--set", f"out={out}",
            "--set", f"adapter.base_model={tiny_base}"]
    assert main(argv) == 0
    stages = json.loads(capsys.readouterr().out.strip().splitlines()[-2])["stages"]
    assert all(isinstance(v, float) for v in stages.values()), stages
    assert set(stages) == {"data", "classifiers", "adapter", "evaluate", "package"}
    assert len((out / "data" / "train.jsonl").read_text().splitlines()) == 9
    assert (out / "adapter" / "adapter_model.safetensors").exists()
    results = json.loads((out / "evaluation" / "results.json").read_text())
    assert results["turns"] == 2 and set(results["systems"]) == {"empath", "constant"}
    publish = out / "publish"
    assert sorted(p.name for p in publish.iterdir()) == ["adapter", "classifiers", "experiences"]
    assert "| Empath |" in (publish / "adapter" / "README.md").read_text()  # the evaluation made it into the card
    assert json.loads((out / "run.json").read_text())["base_model"] == str(tiny_base)

    # nothing changed: every stage is skipped
    before = (out / "adapter" / "adapter_model.safetensors").stat().st_mtime
    assert main(argv) == 0
    stages = json.loads(capsys.readouterr().out.strip().splitlines()[-2])["stages"]
    assert set(stages.values()) == {"skipped"}
    assert (out / "adapter" / "adapter_model.safetensors").stat().st_mtime == before
    # a changed config section reruns that stage (and those whose inputs it rewrote)
    assert main(argv + ["--set", "evaluate.args=[--systems, constant, --max-turns, '1', --no-progress]"]) == 0
    stages = json.loads(capsys.readouterr().out.strip().splitlines()[-2])["stages"]
    assert stages["adapter"] == "skipped" and isinstance(stages["evaluate"], float)
    assert isinstance(stages["package"], float)


def test_bad_stage_and_help(capsys):
    import subprocess
    import sys

    from training.train_all import main

    assert main(["--config", str(REPO_ROOT / "training" / "configs" / "tiny.yaml"), "--only", "nope"]) == 2
    assert "unknown stage" in capsys.readouterr().err
    proc = subprocess.run([sys.executable, "-m", "training.train_all", "--help"], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "--config" in proc.stdout and "accelerate launch" in proc.stdout


def test_configs_parse_and_paper_matches_table6():
    from training.train_all import load_config

    paper = load_config(REPO_ROOT / "training" / "configs" / "paper.yaml")
    a = paper["adapter"]
    assert a["base_model"].startswith("meta-llama/Llama-3.1-8B-Instruct")
    assert (a["config"]["r"], a["config"]["lora_alpha"], a["config"]["lora_dropout"]) == (32, 32, 0.1)
    assert a["config"]["num_role_experts"] + a["config"]["num_strategy_experts"] == 16
    assert a["training"]["learning_rate"] == 1e-5 and a["training"]["num_train_epochs"] == 1
    assert a["training"]["gradient_checkpointing"] is True
    demo = load_config(REPO_ROOT / "training" / "configs" / "cpu-demo.yaml")
    assert demo["adapter"]["trainer"] == "demo"
