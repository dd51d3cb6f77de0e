"""A saved classifier folder: ``config.json`` plus one weight file (or model folder) per head."""

from __future__ import annotations

import json
import os
from pathlib import Path

from .._data import DataFileError
from .backends import BACKENDS
from .base import CONFIG_NAME, DEFAULT_CLASSIFIERS, FORMAT_VERSION, Scorer


def classifier_folder(path_or_repo: str | os.PathLike | None = None) -> Path:
    """A local folder for ``None`` (shipped default), a folder path or a Hub ``org/name@revision``."""
    if path_or_repo is None or str(path_or_repo).strip() in ("", "default"):
        return DEFAULT_CLASSIFIERS
    from ..hub import resolve

    return resolve(path_or_repo)


def read_config(folder: Path) -> dict:
    """The folder's ``config.json``, checked to be in this Empath's format."""
    path = folder / CONFIG_NAME
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataFileError(f"{path}: not found (a classifier folder needs a {CONFIG_NAME})") from None
    except json.JSONDecodeError as exc:
        raise DataFileError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg})") from None
    if config.get("format") != FORMAT_VERSION:
        raise DataFileError(f"{path}: format {config.get('format')!r} is not {FORMAT_VERSION!r}")
    return config


def load_scorers(task: str, folder: Path, config: dict) -> tuple[dict[str, Scorer], str]:
    """The ``task`` section's scorers by language, and its default language."""
    section = config.get(task)
    if not section or not section.get("heads"):
        return {}, "en"
    scorers = {}
    for lang, cfg in section["heads"].items():
        backend = cfg.get("backend")
        if backend == "sequence-gru" and backend not in BACKENDS:  # strategy over the whole dialogue
            from ..strategy_sequence import SEQUENCE, SequenceScorer

            BACKENDS[SEQUENCE] = SequenceScorer
        if backend not in BACKENDS:
            raise DataFileError(f"{folder / CONFIG_NAME}: {task}.{lang}: unknown backend {backend!r}; valid: {', '.join(BACKENDS)}")
        scorers[lang] = BACKENDS[backend].from_config(task, folder, cfg)
    default = section.get("default_lang") or next(iter(scorers))
    return scorers, default


def write_section(folder: str | os.PathLike, task: str, scorers: dict[str, Scorer], default_lang: str,
                  extra: dict | None = None) -> Path:
    """Save the scorers and (re)write the ``task`` section of the folder's ``config.json``, keeping the others."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / CONFIG_NAME
    config = read_config(folder) if path.exists() else {"format": FORMAT_VERSION}
    heads = {lang: scorer.save(folder, f"{task}_{lang}") for lang, scorer in scorers.items()}
    config[task] = {"default_lang": default_lang, "heads": heads, **(extra or {})}
    path.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return folder
