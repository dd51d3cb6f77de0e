"""Resumable JSONL logs (predictions, judgements): appended as answers come, torn last lines cut off."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable


def read_jsonl_log(path: Path) -> list[dict]:
    """Records of an append-only JSONL log; a torn last line (killed mid-write) is cut off the file."""
    if not path.exists():
        return []
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        data = data[: data.rfind(b"\n") + 1]
        path.write_bytes(data)
    return [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]


def append_jsonl(path: Path, record: dict) -> None:
    """Append one record and flush it to disk (a kill loses at most the line being written)."""
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def merge_predictions(records: Iterable[dict]) -> dict[tuple[str, int], dict]:
    """One record per (dialogue id, turn), with the ``systems`` of every line for that turn merged."""
    merged: dict[tuple[str, int], dict] = {}
    for record in records:
        key = (record["dialogue_id"], int(record["turn"]))
        if key in merged:
            merged[key]["systems"].update(record.get("systems", {}))
        else:
            merged[key] = {**record, "systems": dict(record.get("systems", {}))}
    return merged


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one step (a kill leaves the old file or the new one, never half)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def progress_bar(total: int, desc: str, enabled: bool):
    """A tqdm bar over ``total`` turns (silent unless ``enabled``)."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="turn", disable=not enabled, dynamic_ncols=True)
