"""One persona experience: the record, its validation, and the ``experiences/<role_id>.jsonl`` files it is
read from (the format is described in ``experiences/README.md``)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import numpy as np

from ._data import REPO_ROOT, DataFileError
from .emotion import EMOTION_DIMS, MAX_SCORE, MIN_SCORE

EXPERIENCE_LANGUAGES = ("en", "zh")


class ExperienceFileError(DataFileError):
    """One or more malformed experience records; every message line starts with ``file:line:``."""


@dataclass(frozen=True, eq=False)
class Experience:
    id: str
    role: str
    text: dict  # lang -> text ("en" / "zh"; at least one non-empty)
    emotion: np.ndarray  # float32 [8], EMOTION_DIMS order, scale 1-10
    source: dict = field(default_factory=dict)  # {"work": ..., "chapter": ...}
    topics: tuple[str, ...] = ()
    location: str = ""  # "file:line" it was read from

    def __repr__(self) -> str:
        return f"Experience(id={self.id!r}, role={self.role!r}, emotion={self.emotion.tolist()})"

    def text_for(self, lang: str = "en") -> str:
        """The text in ``lang``, else English, else whatever language the experience has."""
        for key in (lang, "en", *self.text):
            if self.text.get(key):
                return self.text[key]
        return ""

    def emotion_scores(self) -> dict[str, float]:
        return {d: float(v) for d, v in zip(EMOTION_DIMS, self.emotion)}

    def to_record(self) -> dict:
        """The JSONL object (integers where the scores are whole numbers)."""
        scores = {d: int(v) if float(v).is_integer() else float(v) for d, v in self.emotion_scores().items()}
        return {"id": self.id, "role": self.role, "source": dict(self.source), "text": dict(self.text),
                "topics": list(self.topics), "emotion": scores}


@dataclass(frozen=True)
class RetrievedExperience:
    experience: Experience
    similarity: float  # what retrieval ranked by: Eq. 8's cosine (or the text blend)
    # Cosine after subtracting the persona's mean experience vector from both sides: all-positive 1-10 emotion
    # vectors share one direction, so the raw cosine is always high (0.85-0.96 even for off-topic input) and
    # tells a user little; centred, it reads whether query and experience lean the same way (-1..1). For display
    # only: the ranking stays the paper's.
    centred_similarity: float | None = None


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value)


def parse_experience(record, where: str, topics: Iterable[str] | None = None) -> Experience:
    """Validate one decoded JSON object; raises ``ExperienceFileError`` with ``where`` (file:line)."""
    def fail(reason: str):
        raise ExperienceFileError(f"{where}: {reason}")

    if not isinstance(record, dict):
        fail(f"expected a JSON object, got {type(record).__name__}")
    missing = [k for k in ("id", "role", "text", "emotion") if k not in record]
    if missing:
        fail(f"missing field(s) {', '.join(missing)}")
    for key in ("id", "role"):
        if not isinstance(record[key], str) or not record[key].strip():
            fail(f"'{key}' must be a non-empty string")
    text = record["text"]
    if not isinstance(text, dict) or not text:
        fail("'text' must be an object like {\"en\": \"...\", \"zh\": \"...\"}")
    bad_langs = sorted(set(text) - set(EXPERIENCE_LANGUAGES))
    if bad_langs:
        fail(f"'text' has unknown language(s) {bad_langs}; use {list(EXPERIENCE_LANGUAGES)}")
    if any(not isinstance(v, str) for v in text.values()) or not any(v.strip() for v in text.values()):
        fail("'text' values must be strings and at least one must be non-empty")
    emotion = record["emotion"]
    if not isinstance(emotion, dict):
        fail(f"'emotion' must be an object with the keys {', '.join(EMOTION_DIMS)}")
    absent = [d for d in EMOTION_DIMS if d not in emotion]
    extra = sorted(set(emotion) - set(EMOTION_DIMS))
    if absent or extra:
        fail(f"'emotion' needs exactly {', '.join(EMOTION_DIMS)} (missing {absent}, unknown {extra})")
    for dim in EMOTION_DIMS:
        value = emotion[dim]
        if not _number(value) or not MIN_SCORE <= value <= MAX_SCORE:
            fail(f"emotion score {dim}={value!r} must be a number from {MIN_SCORE:g} to {MAX_SCORE:g}")
    source = record.get("source", {})
    if not isinstance(source, dict) or any(not isinstance(v, str) for v in source.values()):
        fail("'source' must be an object of strings like {\"work\": \"...\", \"chapter\": \"...\"}")
    record_topics = record.get("topics", [])
    if not isinstance(record_topics, list) or any(not isinstance(t, str) for t in record_topics):
        fail("'topics' must be a list of topic ids")
    if topics is not None:
        valid = list(topics)
        unknown = [t for t in record_topics if t not in valid]
        if unknown:
            fail(f"unknown topic(s) {unknown}; valid: {', '.join(valid)}")
    return Experience(id=record["id"].strip(), role=record["role"].strip(), text=dict(text),
                      emotion=np.array([emotion[d] for d in EMOTION_DIMS], dtype=np.float32),
                      source=dict(source), topics=tuple(record_topics), location=where)


def read_experience_file(path: str | os.PathLike, topics: Iterable[str] | None = None,
                         errors: list[str] | None = None) -> list[Experience]:
    """Experiences of one JSONL file. Bad lines raise, or are appended to ``errors`` when it is given."""
    path = Path(path)
    topics = None if topics is None else list(topics)
    out = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                try:
                    record = json.loads(line.rstrip("\r\n"))
                except json.JSONDecodeError as exc:
                    raise ExperienceFileError(f"{where}: invalid JSON ({exc.msg} at column {exc.colno})") from None
                out.append(parse_experience(record, where, topics))
            except ExperienceFileError as exc:
                if errors is None:
                    raise
                errors.append(str(exc))
    return out


def experiences_dir(path_or_repo: str | os.PathLike | None = None) -> Path:
    """The folder (or single file) to load: a local path, a Hub ``id@rev`` (its ``experiences/`` folder
    if present; ``datasets/id@rev`` for a dataset repo), ``EMPATH_EXPERIENCES``, or the repository's ``experiences/``."""
    ref = path_or_repo or os.environ.get("EMPATH_EXPERIENCES")
    if ref is None:
        return REPO_ROOT / "experiences"
    local = Path(ref).expanduser()
    if local.exists():
        return local
    from .hub import ModelRef, ModelResolutionError, resolve, snapshot

    try:
        if str(ref).startswith("datasets/"):  # a Hub dataset repo (training.push_to_hub publishes the bank as one)
            parsed = ModelRef.parse(str(ref)[len("datasets/"):])
            folder = snapshot(parsed.repo_id, parsed.revision, repo_type="dataset")
        else:
            folder = resolve(str(ref))
    except ModelResolutionError as exc:
        raise DataFileError(f"experiences {ref!r}: {exc}") from exc
    return folder / "experiences" if (folder / "experiences").is_dir() else folder
