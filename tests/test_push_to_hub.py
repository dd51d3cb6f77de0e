"""training.push_to_hub: dry-run folders, cards, a fake HfApi, and the pipeline loading a dry run as Hub snapshots."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from empath._data import PACKAGE_DATA, REPO_ROOT
from training import push_to_hub


@pytest.fixture(scope="module")
def tiny_release(tmp_path_factory):
    """A tiny base model folder, a tiny Group MoELoRA adapter for it, an evaluation results.json."""
    import torch

    from empath.adapter import adapter_config, create_adapter
    from tests._tiny import smollm_tokenizer, tiny_llama

    root = tmp_path_factory.mktemp("release")
    tok = smollm_tokenizer()
    base = tiny_llama(len(tok))
    base.save_pretrained(root / "base")
    tok.save_pretrained(root / "base")
    config = adapter_config(r=2, num_role_experts=2, num_strategy_experts=2, embedding_dim=8, lora_dropout=0.0,
                            embedding_init="learned", init_lora_weights=False)
    torch.manual_seed(0)
    create_adapter(base, config).save_pretrained(root / "adapter")
    (root / "adapter" / "optimizer.pt").write_bytes(b"pickle")  # trainer state must never be published
    (root / "evaluation").mkdir()
    (root / "evaluation" / "results.json").write_text(json.dumps({
        "turns": 3, "config": {"data": "/x/valid.jsonl"},
        "systems": {"empath": {"D-1": 40.0, "D-2": 80.0, "B-1": 10.0, "B-2": 3.0, "B-4": 0.5, "F1": 12.0,
                               "R-L": 9.0, "PPL": 55.5}}}))
    (root / "run.json").write_text(json.dumps({"base_model": "meta-llama/Llama-3.1-8B-Instruct",
                                               "datasets": ["ESConv", "EmpathSupport (derived from PsyQA)"]}))
    return root


def dry_run(release: Path, out: Path, capsys, *extra) -> str:
    argv = ["--run-dir", str(release), "--classifiers", str(PACKAGE_DATA / "classifiers"), "--namespace", "me",
            "--out", str(out), "--revision", "v1", "--dry-run", *extra]
    assert push_to_hub.main(argv) == 0
    return capsys.readouterr().out


def test_dry_run_writes_exactly_the_folders_with_cards(tiny_release, tmp_path, capsys):
    out = tmp_path / "publish"
    printed = dry_run(tiny_release, out, capsys)
    assert sorted(p.name for p in out.iterdir()) == ["adapter", "classifiers", "experiences"]
    adapter = sorted(p.name for p in (out / "adapter").iterdir())
    assert adapter == ["README.md", "adapter_config.json", "adapter_model.safetensors"]  # no optimizer.pt
    assert {"config.json", "role_en.safetensors", "README.md"} <= {p.name for p in (out / "classifiers").iterdir()}
    assert len(list((out / "experiences").glob("*.jsonl"))) == len(list((REPO_ROOT / "experiences").glob("*.jsonl")))
    card = (out / "adapter" / "README.md").read_text()
    assert "license: cc-by-nc-4.0" in card and "base_model: meta-llama/Llama-3.1-8B-Instruct" in card
    assert "| Empath | 40.00 | 80.00" in card and "55.50" in card  # metrics from the evaluation
    assert "CC BY-NC 4.0" in card and "988" in card and "not therapy" in card  # licence, crisis disclaimer, policy
    assert 'GroupMoELoraModel.from_pretrained(base, "me/empath-adapter", revision="v1")' in card
    classifiers_card = (out / "classifiers" / "README.md").read_text()
    role_en = json.loads((PACKAGE_DATA / "classifiers" / "config.json").read_text())["training"]["log"]["en"]["role"]
    assert "validation accuracy" in classifiers_card and f"{role_en['valid_accuracy']:.3f}" in classifiers_card
    assert "EMPATH_CLASSIFIERS=me/empath-classifiers@v1" in classifiers_card
    data_card = (out / "experiences" / "README.md").read_text()
    assert "license: apache-2.0" in data_card and "datasets/me/empath-experiences@v1" in data_card
    assert "dry run: nothing uploaded" in printed and "adapter_model.safetensors" in printed


class FakeHfApi:
    calls: list = []

    def __init__(self, token=None):
        self.token = token

    def create_repo(self, repo_id, repo_type=None, private=False, exist_ok=False):
        FakeHfApi.calls.append(("create_repo", repo_id, repo_type, private))

    def create_branch(self, repo_id, branch, repo_type=None, exist_ok=False):
        FakeHfApi.calls.append(("create_branch", repo_id, branch, repo_type))

    def upload_folder(self, repo_id, folder_path, repo_type=None, revision=None, commit_message=None):
        files = sorted(p.name for p in Path(folder_path).iterdir())
        FakeHfApi.calls.append(("upload_folder", repo_id, repo_type, revision, files))
        return SimpleNamespace(oid=f"{abs(hash(repo_id)) % 10**8:040d}", commit_url="https://example/commit")


def test_upload_with_a_fake_hfapi_prints_commit_hashes(tiny_release, tmp_path, capsys, monkeypatch):
    import huggingface_hub

    FakeHfApi.calls = []
    monkeypatch.setattr(huggingface_hub, "HfApi", FakeHfApi)
    argv = ["--run-dir", str(tiny_release), "--classifiers", str(PACKAGE_DATA / "classifiers"), "--namespace", "me",
            "--out", str(tmp_path / "pub"), "--private", "--branch", "v1"]
    assert push_to_hub.main(argv) == 0
    printed = capsys.readouterr().out
    creates = [c for c in FakeHfApi.calls if c[0] == "create_repo"]
    assert creates == [("create_repo", "me/empath-adapter", "model", True),
                       ("create_repo", "me/empath-classifiers", "model", True),
                       ("create_repo", "me/empath-experiences", "dataset", True)]
    assert ("create_branch", "me/empath-experiences", "v1", "dataset") in FakeHfApi.calls
    uploads = {c[1]: c for c in FakeHfApi.calls if c[0] == "upload_folder"}
    assert uploads["me/empath-adapter"][3] == "v1" and "README.md" in uploads["me/empath-adapter"][4]
    assert printed.count("uploaded me/empath-") == 3 and "commit 0000" in printed


def test_bad_arguments(tmp_path, capsys):
    assert push_to_hub.main(["--adapter", str(tmp_path), "--only", "adapter", "--dry-run"]) == 2
    assert "--namespace" in capsys.readouterr().err
    assert push_to_hub.main(["--namespace", "me", "--adapter", str(tmp_path), "--only", "adapter",
                             "--out", str(tmp_path / "o"), "--dry-run"]) == 2
    assert "adapter_model.safetensors" in capsys.readouterr().err


def test_pipeline_loads_a_dry_run_as_hub_snapshots(tiny_release, tmp_path, capsys, monkeypatch):
    """EMPATH_ADAPTER / _CLASSIFIERS / _EXPERIENCES as Hub ids: snapshot_download returns the dry-run folders."""
    import huggingface_hub

    from empath.generation import SamplingSettings
    from empath.pipeline import Conversation, EmpathPipeline, PipelineConfig

    out = tmp_path / "publish"
    dry_run(tiny_release, out, capsys)
    calls = []

    def fake_snapshot_download(repo_id, revision=None, repo_type=None, allow_patterns=None, **kwargs):
        calls.append((repo_id, revision, repo_type))
        kind = repo_id.split("/")[1].removeprefix("empath-")
        assert revision == "v1" and (repo_type == "dataset") == (kind == "experiences")
        return str(out / kind)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot_download)
    monkeypatch.setenv("EMPATH_BASE_MODEL", str(tiny_release / "base"))
    monkeypatch.setenv("EMPATH_ADAPTER", "me/empath-adapter@v1")
    monkeypatch.setenv("EMPATH_CLASSIFIERS", "me/empath-classifiers@v1")
    monkeypatch.setenv("EMPATH_EXPERIENCES", "datasets/me/empath-experiences@v1")
    from tests.test_pipeline import FakeSafety, FakeScorer

    pipe = EmpathPipeline(PipelineConfig.from_env(), emotion_scorer=FakeScorer(), safety_checker=FakeSafety())
    result = pipe.respond(Conversation(), "My girlfriend broke up with me and I cannot sleep.",
                          settings=SamplingSettings(max_new_tokens=6, seed=0))
    assert result.error is None and result.response
    assert result.role and result.strategy and result.experience and result.gate_weights
    assert result.experience["id"].startswith(result.role)
    assert {c[0] for c in calls} == {"me/empath-adapter", "me/empath-classifiers", "me/empath-experiences"}
    assert pipe.has_adapter


def test_cli_help():
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "training.push_to_hub", "--help"], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "--dry-run" in proc.stdout and "--private" in proc.stdout
