"""Saving, loading and pushing Group MoELoRA adapters: ``adapter_config.json`` + ``adapter_model.safetensors``
(adapter tensors only), read from a local folder or a Hub snapshot, checked against the base model."""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Mapping, Optional, Union

import torch
import torch.nn as nn

from .config import ADAPTER_NAME, CONFIG_NAME, WEIGHTS_NAME, GroupMoELoraConfig
from .layer import GroupGate

if TYPE_CHECKING:
    from .model import GroupMoELoraModel

GATE_PREFIX = "moelora_gate."
# Base-model properties an adapter depends on; a mismatch makes loading fail with a clear message.
_IDENTITY_KEYS = ("model_type", "hidden_size", "intermediate_size", "num_hidden_layers", "vocab_size", "n_embd", "n_layer")
# What a Hub snapshot of an adapter fetches: configs (the adapter's and any the caller keeps beside it), the
# weights and the model card; never pickled files.
HUB_FILES = ["*.json", WEIGHTS_NAME, "*.md"]
Download = Callable[..., Union[str, os.PathLike]]  # (repo_id, revision, **kwargs) -> local snapshot folder


class AdapterLoadError(RuntimeError):
    """An adapter that does not fit the base model, or a damaged adapter file."""


def base_model_identity(model: nn.Module) -> dict:
    """The base model's config values an adapter depends on (``model_type``, sizes, layer count)."""
    config = getattr(model, "config", None)
    if config is None:
        return {}
    return {key: getattr(config, key) for key in _IDENTITY_KEYS if getattr(config, key, None) is not None}


def check_base_identity(config: GroupMoELoraConfig, model: nn.Module, folder: Path) -> None:
    """Raise :class:`AdapterLoadError` when ``model`` differs from the base the adapter was trained on."""
    saved = config.base_model_info or {}
    current = base_model_identity(model)
    diffs = [f"{k}: adapter {saved[k]!r} vs model {current[k]!r}" for k in saved if k in current and saved[k] != current[k]]
    if diffs:
        raise AdapterLoadError(
            f"{folder / CONFIG_NAME}: the adapter was trained on a different base model "
            f"({config.base_model_name_or_path or 'unnamed'}): " + "; ".join(diffs)
        )


def hub_snapshot(repo_id: str, revision: Optional[str] = None, **hub_kwargs) -> Path:
    """Fetch (or reuse from the Hugging Face cache) the adapter files of a Hub repo."""
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(repo_id=repo_id, revision=revision, allow_patterns=HUB_FILES, **hub_kwargs))
    except Exception as exc:  # network, auth, missing repo: say which reference failed
        raise AdapterLoadError(f"could not fetch the adapter {repo_id}@{revision or 'main'} from the Hub: {exc}") from exc


def adapter_folder(model_id: Union[str, os.PathLike], revision: Optional[str] = None,
                   download: Optional[Download] = None, **hub_kwargs) -> Path:
    """A local folder for ``model_id``: the folder itself, or a snapshot of the Hub repo ``org/name[@revision]``
    fetched by ``download`` (default :func:`hub_snapshot`); a revision in the id wins over ``revision``."""
    local = Path(str(model_id)).expanduser()
    if local.is_dir():
        return local
    if local.exists():
        raise AdapterLoadError(f"{model_id} is a file, not an adapter folder")
    repo_id, _, pinned = str(model_id).strip().partition("@")
    return Path((download or hub_snapshot)(repo_id, pinned or revision or None, **hub_kwargs))


def read_adapter_weights(path: Path) -> dict[str, torch.Tensor]:
    """The tensors of ``adapter_model.safetensors`` (safetensors only, never pickle)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    if not path.exists():
        raise AdapterLoadError(f"{path}: adapter weights not found")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise AdapterLoadError(f"{path}: not a readable safetensors file (corrupt or truncated?): {exc}") from exc


def read_adapter(folder: Union[str, os.PathLike]) -> tuple[GroupMoELoraConfig, dict[str, torch.Tensor]]:
    """``(config, tensors)`` of a saved adapter folder, without a base model."""
    folder = Path(folder)
    return GroupMoELoraConfig.from_pretrained(folder), read_adapter_weights(folder / WEIGHTS_NAME)


def gate_from_state(config: GroupMoELoraConfig, state: Mapping[str, torch.Tensor]) -> GroupGate:
    """The global gate module (embeddings, projections, gates) of a saved adapter, in eval mode."""
    gate_state = {k[len(GATE_PREFIX):]: v for k, v in state.items() if k.startswith(GATE_PREFIX)}
    features = (gate_state.get("role_text_features"), gate_state.get("strategy_text_features"))
    gate = GroupGate(config, *features)
    gate.load_state_dict(gate_state)
    return gate.eval()


def adapter_tensors(model: "GroupMoELoraModel") -> dict[str, torch.Tensor]:
    """Saved name -> live tensor (sharing storage) for every adapter weight: what is saved and loaded."""
    tensors = {}
    for name, layer in model.adapter_layers():
        for attr in layer.adapter_layer_names:
            container = getattr(layer, attr)
            if ADAPTER_NAME not in container:
                continue
            item = container[ADAPTER_NAME]
            if isinstance(item, nn.Module):
                for key, tensor in item.state_dict().items():
                    tensors[f"{name}.{attr}.{key}"] = tensor
            else:
                tensors[f"{name}.{attr}"] = item
    for key, tensor in model.moelora_gate.state_dict().items():
        tensors[GATE_PREFIX + key] = tensor
    return tensors


def load_adapter_tensors(model: "GroupMoELoraModel", state: Mapping[str, torch.Tensor], source: str) -> None:
    """Copy ``state`` into the model's adapter weights; every tensor must be there, with the model's shape."""
    expected = adapter_tensors(model)
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise AdapterLoadError(
            f"{source} does not match this base model's adapted layers: "
            f"missing {missing[:5]}{'…' if len(missing) > 5 else ''} ({len(missing)}), "
            f"unexpected {unexpected[:5]}{'…' if len(unexpected) > 5 else ''} ({len(unexpected)})"
        )
    wrong = [f"{k}: file {tuple(state[k].shape)} vs model {tuple(v.shape)}" for k, v in expected.items() if state[k].shape != v.shape]
    if wrong:
        raise AdapterLoadError(f"{source}: tensor shapes do not fit the base model: " + "; ".join(wrong[:5]))
    with torch.no_grad():
        for key, target in expected.items():
            target.copy_(state[key].to(target.dtype))


def save_adapter(model: "GroupMoELoraModel", save_directory: Union[str, os.PathLike]) -> None:
    """Write ``adapter_config.json`` and ``adapter_model.safetensors`` (the adapter tensors only)."""
    from safetensors.torch import save_file

    path = Path(save_directory)
    path.mkdir(parents=True, exist_ok=True)
    if model.merged_route is not None:
        warnings.warn("saving a merged model: the adapter weights are saved as they are (unmerged form)")
    model.adapter_config.save_pretrained(path)
    save_file(model.adapter_state_dict(), str(path / WEIGHTS_NAME), metadata={"format": "pt", "adapter": "empath-group-moelora"})


def saved_text_features(config: GroupMoELoraConfig, state: Mapping[str, torch.Tensor], weights: Path):
    """The frozen text vectors a text-initialised adapter was saved with (None for learned embeddings)."""
    if config.embedding_init != "text":
        return None
    try:
        features = (state[GATE_PREFIX + "role_text_features"], state[GATE_PREFIX + "strategy_text_features"])
    except KeyError as exc:
        raise AdapterLoadError(f"{weights}: text-initialised adapter without {exc.args[0]}") from exc
    if features[0].shape[0] != len(config.role_names) or features[1].shape[0] != len(config.strategy_names):
        raise AdapterLoadError(f"{weights}: embedding rows do not match role_names/strategy_names in {CONFIG_NAME}")
    return features


def model_card(config: GroupMoELoraConfig, repo_id: str) -> str:
    """The README.md pushed with an adapter."""
    base = config.base_model_name_or_path
    return (
        "---\n"
        + (f"base_model: {base}\n" if base and "/" in str(base) and not Path(str(base)).exists() else "")
        + "library_name: empath\ntags:\n- empath\n- group-moelora\n- emotional-support\n---\n\n"
        f"# {repo_id}\n\nGroup MoELoRA adapter for Empath ({config.num_role_experts} role experts + "
        f"{config.num_strategy_experts} strategy experts, r={config.r}, beta={config.beta}).\n\n"
        f"Roles: {', '.join(config.role_names)}\n\nStrategies: {', '.join(config.strategy_names)}\n\n"
        "```python\nfrom empath.group_moelora import GroupMoELoraModel\n"
        f"model = GroupMoELoraModel.from_pretrained(base_model, \"{repo_id}\")\n```\n"
    )


def push_adapter(model: "GroupMoELoraModel", repo_id: str, private: Optional[bool] = None, token: Optional[str] = None,
                 commit_message: str = "Upload Group MoELoRA adapter", revision: Optional[str] = None,
                 create_pr: bool = False):
    """Save to a temporary folder with a model card and upload it with ``huggingface_hub.HfApi().upload_folder``."""
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    api.create_repo(repo_id, private=private, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp)
        (Path(tmp) / "README.md").write_text(model_card(model.adapter_config, repo_id), encoding="utf-8")
        return api.upload_folder(
            repo_id=repo_id, folder_path=tmp, commit_message=commit_message, revision=revision, create_pr=create_pr
        )
