"""Role-based experience RAG (paper Section 5.2): each persona's experiences with their 8-dim emotion
vectors, and cosine-similarity retrieval of the experience closest to a seeker's emotion vector.

Files: ``experiences/<role_id>.jsonl``, one experience per line (format in ``experiences/README.md``)::

    {"id": "sun_wukong-001", "role": "sun_wukong", "source": {"work": "...", "chapter": "..."},
     "text": {"en": "...", "zh": "..."}, "topics": ["self_growth"], "emotion": {"joy": 2, ..., "anticipation": 5}}

Retrieval (Eq. 7-8): every persona keeps one row-normalised float32 matrix ``[n, 8]``; a query is
normalised once and scored with one matrix-vector product, top-k by ``argmax`` / ``argpartition``.
Ties go to the experience that comes first in the files, and a zero query vector scores 0 against
everything (so the first experiences are returned). Personas with at least ``index_threshold``
experiences (default 200,000) are answered from an exact KD-tree over the unit vectors instead
(Euclidean distance on unit vectors ranks exactly like cosine), because one pass over a 1M x 8 matrix
is bound by memory bandwidth; the tree's candidates are re-scored with the same cosine, so both paths
return the same experiences.

Similarity modes: ``text_weight=0`` (default) is the paper's emotion-only cosine. With
``text_weight=w > 0`` and a ``query_text``, the score is ``(1 - w) * emotion cosine + w * text
cosine`` (multilingual sentence encoder over the experience texts); see ``benchmarks/retrieval.py``.
"""

from __future__ import annotations

import os
import re
import threading
from collections import defaultdict
from typing import Iterable, Sequence

import numpy as np

from ._data import ById, DataFileError
from .emotion import EMOTION_DIMS
from .experience_records import (EXPERIENCE_LANGUAGES, Experience, ExperienceFileError, RetrievedExperience,
                                 experiences_dir, parse_experience, read_experience_file)
from .roles import RoleBank, UnknownRoleError, load_roles

INDEX_THRESHOLD = 200_000
_TIE_PROBE = 4  # extra neighbours fetched to detect ties at the k-th place without a second tree walk
_DISTANCE_SLACK = 4e-6  # squared-distance slack; covers float32 rounding of cosines (about 1e-6)
_MAX_REPORTED_ERRORS = 20


# ---------------------------------------------------------------------------------------------
# The bank
# ---------------------------------------------------------------------------------------------
def _normalise_rows(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` highest scores, best first; equal scores keep index order (vectorised)."""
    n = scores.shape[0]
    k = min(k, n)
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    if k == 1:
        return np.array([int(np.argmax(scores))])  # argmax returns the first of equal maxima
    if k < n:
        kth = scores[np.argpartition(scores, n - k)[n - k]]  # the k-th largest, no negated copy
        candidates = np.flatnonzero(scores >= kth)  # everything tied with the k-th stays a candidate
    else:
        candidates = np.arange(n)
    order = np.argsort(-scores[candidates], kind="stable")
    return candidates[order[:k]]


class ExperienceBank(ById):
    """Validated experiences of every persona plus one normalised emotion matrix per persona.

    ``roles``: the persona ids queries may use (default: ``empath.roles.load_roles().ids``); experiences
    for other roles are a load error, known roles without experiences give empty results.
    """

    def __init__(self, experiences: Iterable[Experience], roles: Sequence[str] | None = None,
                 index_threshold: int = INDEX_THRESHOLD, text_encoder: str = "use-multilingual"):
        if roles is None:
            roles = load_roles().ids
        self.roles = list(dict.fromkeys(roles))
        self.index_threshold = index_threshold
        self.text_encoder = text_encoder
        by_role, errors = self._group(experiences, self.roles)
        _raise_collected(errors)
        self._experiences = {r: tuple(by_role.get(r, ())) for r in self.roles}
        self._by_id = {e.id: e for exps in self._experiences.values() for e in exps}
        self._matrices = {}
        self._means = {}
        for role, exps in self._experiences.items():
            vectors = np.stack([e.emotion for e in exps]) if exps else np.zeros((0, len(EMOTION_DIMS)), np.float32)
            self._means[role] = vectors.mean(0).astype(np.float32) if len(exps) else None
            matrix = np.ascontiguousarray(_normalise_rows(vectors))
            matrix.setflags(write=False)
            self._matrices[role] = matrix
        self._trees: dict[str, object] = {}
        self._text_matrices: dict[tuple[str, str], np.ndarray] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _group(experiences: Iterable[Experience], roles: Sequence[str]) -> tuple[dict, list[str]]:
        """Experiences per known role, and the errors: unknown roles and duplicate ids."""
        by_role: dict[str, list[Experience]] = defaultdict(list)
        seen: dict[str, str] = {}
        errors = []
        for exp in experiences:
            where = exp.location or exp.id
            if exp.role not in roles:
                errors.append(f"{where}: unknown role {exp.role!r}; valid: {', '.join(roles)}")
            elif exp.id in seen:
                errors.append(f"{where}: duplicate id {exp.id!r} (first at {seen[exp.id]})")
            else:
                seen[exp.id] = where
                by_role[exp.role].append(exp)
        return by_role, errors

    # -- loading -------------------------------------------------------------------------------
    @classmethod
    def load(cls, path_or_repo: str | os.PathLike | None = None, roles: RoleBank | Sequence[str] | None = None,
             **kwargs) -> "ExperienceBank":
        """All ``*.jsonl`` files of a folder (or one file). ``None``: ``EMPATH_EXPERIENCES`` or the
        repository's ``experiences/``; a Hub ``id@revision`` is fetched with ``empath.hub.resolve``.
        ``roles``: the role bank the experiences belong to (None: the shipped one), or only some persona ids
        of the shipped bank. Every malformed line is reported (up to 20), each as ``file:line: reason``."""
        location = experiences_dir(path_or_repo)
        if not location.exists():
            raise DataFileError(f"{location}: experiences folder not found")
        files = sorted(location.glob("*.jsonl")) if location.is_dir() else [location]
        bank = roles if isinstance(roles, RoleBank) else load_roles()
        roles = bank.ids if roles is None or roles is bank else list(roles)
        topics = [t.id for t in bank.topics]
        errors: list[str] = []
        experiences: list[Experience] = []
        for file in files:
            for exp in read_experience_file(file, topics, errors):
                if location.is_dir() and exp.role != file.stem:
                    errors.append(f"{exp.location}: role {exp.role!r} does not match the file name "
                                  f"(experiences of {exp.role!r} belong in {exp.role}.jsonl)")
                else:
                    experiences.append(exp)
        errors += cls._group(experiences, roles)[1]
        _raise_collected(errors)
        return cls(experiences, roles=roles, **kwargs)

    # -- access --------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self):
        for exps in self._experiences.values():
            yield from exps

    def _unknown(self, experience_id: str) -> KeyError:
        return KeyError(f"unknown experience id {experience_id!r}")

    def _check_role(self, role: str) -> str:
        if role not in self._experiences:
            raise UnknownRoleError(f"unknown role {role!r}; valid roles: {', '.join(self.roles)}")
        return role

    def experiences(self, role: str) -> tuple[Experience, ...]:
        return self._experiences[self._check_role(role)]

    def matrix(self, role: str) -> np.ndarray:
        """Read-only ``[n, 8]`` float32 matrix of unit-length emotion vectors (file order)."""
        return self._matrices[self._check_role(role)]

    def counts(self) -> dict[str, int]:
        return {r: len(e) for r, e in self._experiences.items()}

    # -- retrieval -----------------------------------------------------------------------------
    def similarities(self, role: str, vector: Sequence[float]) -> np.ndarray:
        """Cosine similarity (Eq. 8) of ``vector`` with every experience of ``role``."""
        return self.matrix(role) @ _unit_query(vector)

    def centred_similarity(self, role: str, vector: Sequence[float], experience: Experience) -> float | None:
        """Cosine of ``vector`` and ``experience.emotion`` after subtracting the mean emotion vector of the
        persona's experiences from both (None when either is at the mean, e.g. a persona with one experience)."""
        mean = self._means[self._check_role(role)]
        if mean is None:
            return None
        query = np.asarray(vector, dtype=np.float32).reshape(-1) - mean
        exp = np.asarray(experience.emotion, dtype=np.float32) - mean
        norms = float(np.linalg.norm(query) * np.linalg.norm(exp))
        return float(query @ exp / norms) if norms > 1e-9 else None

    def retrieve(self, role: str, vector: Sequence[float], k: int = 1, *, query_text: str | None = None,
                 text_weight: float = 0.0, lang: str = "en") -> list[RetrievedExperience]:
        """The ``k`` experiences of ``role`` most similar to the emotion ``vector``, best first (ranked by
        Eq. 7-8's cosine; each hit also carries the display-only ``centred_similarity``).

        ``text_weight > 0`` with a ``query_text`` blends in the cosine between the query text and the
        experience texts in ``lang`` (see the module docstring); the reported similarity is the blend.
        """
        hits = self._retrieve(role, vector, k, query_text=query_text, text_weight=text_weight, lang=lang)
        return [RetrievedExperience(h.experience, h.similarity, self.centred_similarity(role, vector, h.experience))
                for h in hits]

    def _retrieve(self, role, vector, k, *, query_text, text_weight, lang) -> list[RetrievedExperience]:
        matrix = self.matrix(role)
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        if not 0.0 <= text_weight <= 1.0:
            raise ValueError(f"text_weight must be in [0, 1], got {text_weight}")
        query = _unit_query(vector)
        experiences = self._experiences[role]
        if not len(experiences):
            return []
        if text_weight > 0 and query_text:
            text_sims = self._text_similarities(role, query_text, lang)
            scores = (1 - text_weight) * (matrix @ query) + text_weight * text_sims
            picked = top_k(scores, k)
            return [RetrievedExperience(experiences[i], float(scores[i])) for i in picked]
        if not query.any():  # no direction: every experience scores 0, file order decides
            return [RetrievedExperience(experiences[i], 0.0) for i in range(min(k, len(experiences)))]
        if len(experiences) >= self.index_threshold:
            picked, sims = self._tree_top_k(role, query, k)
        else:
            sims = matrix @ query
            picked = top_k(sims, k)
            sims = sims[picked]
        return [RetrievedExperience(experiences[i], float(s)) for i, s in zip(picked, sims)]

    def build_index(self, role: str | None = None) -> None:
        """Build the KD-trees now (otherwise built on the first query of a large persona)."""
        for r in [self._check_role(role)] if role else self.roles:
            if len(self._experiences[r]) >= self.index_threshold:
                self._tree(r)

    def _tree(self, role: str):
        tree = self._trees.get(role)
        if tree is None:
            with self._lock:
                tree = self._trees.get(role)
                if tree is None:
                    from sklearn.neighbors import KDTree

                    tree = self._trees[role] = KDTree(self._matrices[role], leaf_size=40)
        return tree

    def _tree_top_k(self, role: str, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        matrix = self._matrices[role]
        tree = self._tree(role)
        point = query[None].astype(np.float64)
        k = min(k, matrix.shape[0])
        extra = min(k + _TIE_PROBE, matrix.shape[0])
        distances, indices = tree.query(point, k=extra)
        # Everything within the k-th distance plus rounding slack is a candidate, so exact ties and the
        # float32-vs-float64 difference between cosine and tree distance cannot change the answer.
        limit = distances[0, k - 1] ** 2 + _DISTANCE_SLACK
        if extra < matrix.shape[0] and distances[0, -1] ** 2 <= limit:  # more ties than probed
            candidates = tree.query_radius(point, r=float(np.sqrt(limit)))[0]
        else:
            candidates = indices[0, distances[0] ** 2 <= limit]
        candidates = np.sort(candidates)
        sims = matrix[candidates] @ query
        best = top_k(sims, k)
        return candidates[best], sims[best]

    def _text_similarities(self, role: str, query_text: str, lang: str) -> np.ndarray:
        from .encoder_cache import cached_encoder

        encoder = cached_encoder(self.text_encoder)
        key = (role, lang)
        if key not in self._text_matrices:  # the bank's texts bypass the memo (kept here instead); the query uses it
            texts = [e.text_for(lang) for e in self._experiences[role]]
            self._text_matrices[key] = encoder.encoder.encode(texts)
        return self._text_matrices[key] @ encoder.encode([query_text])[0]


def _unit_query(vector: Sequence[float]) -> np.ndarray:
    query = np.asarray(vector, dtype=np.float32).reshape(-1)
    if query.shape != (len(EMOTION_DIMS),):
        raise ValueError(f"emotion vector must have {len(EMOTION_DIMS)} values ({', '.join(EMOTION_DIMS)}), "
                         f"got shape {np.shape(vector)}")
    if not np.all(np.isfinite(query)):
        raise ValueError("emotion vector contains NaN or infinity")
    norm = float(np.linalg.norm(query))
    return query / norm if norm > 0 else np.zeros_like(query)


def _raise_collected(errors: list[str]) -> None:
    if errors:
        errors = sorted(errors, key=_location_key)
        shown = errors[:_MAX_REPORTED_ERRORS]
        more = f"\n... and {len(errors) - len(shown)} more" if len(errors) > len(shown) else ""
        raise ExperienceFileError("\n".join(shown) + more)


def _location_key(message: str) -> tuple[str, int]:
    match = re.match(r"(.*?):(\d+): ", message)
    return (match.group(1), int(match.group(2))) if match else (message, 0)


def load_experiences(path_or_repo: str | os.PathLike | None = None, **kwargs) -> ExperienceBank:
    return ExperienceBank.load(path_or_repo, **kwargs)


__all__ = ["EXPERIENCE_LANGUAGES", "INDEX_THRESHOLD", "Experience", "ExperienceBank", "ExperienceFileError",
           "RetrievedExperience", "experiences_dir", "load_experiences", "parse_experience", "read_experience_file",
           "top_k"]
