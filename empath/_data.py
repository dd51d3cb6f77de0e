"""Where the project's content files live, and one YAML loader with file-named errors."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

PACKAGE_DATA = Path(__file__).resolve().parent / "data"
REPO_ROOT = Path(__file__).resolve().parent.parent


class DataFileError(ValueError):
    """A content or dataset file is missing or malformed; the message names file (and line)."""


def load_yaml(path: str | os.PathLike) -> Any:
    path = Path(path)
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except FileNotFoundError as exc:
        raise DataFileError(f"{path}: file not found") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise DataFileError(f"{where}: invalid YAML ({getattr(exc, 'problem', exc)})") from exc


def repo_relative(path: str | os.PathLike) -> Path | None:
    """``path`` relative to the repository, or None when it lies outside (a log or config that reads the same on
    every machine)."""
    resolved = Path(path).resolve()
    return resolved.relative_to(REPO_ROOT) if resolved.is_relative_to(REPO_ROOT) else None


def shared_data_dir() -> Path:
    """Real datasets for development and CI (never copied into the project)."""
    return Path(os.environ.get("EMPATH_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


class ById:
    """Lookup by id for a content bank that keeps ``self._by_id``; ``_unknown(key)`` is the error for a missing id."""

    _by_id: dict

    def __contains__(self, key: str) -> bool:
        return key in self._by_id

    def get(self, key: str):
        """The entry with id ``key``; a missing id raises ``_unknown(key)`` (whose message lists what exists)."""
        try:
            return self._by_id[key]
        except KeyError:
            raise self._unknown(key) from None

    def _unknown(self, key: str) -> KeyError:
        return KeyError(f"unknown id {key!r}")
