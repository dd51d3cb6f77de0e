"""Role matching and strategy prediction (paper, Appendix B): the two classifiers that drive the gates.

``RoleMatcher`` reads the seeker's background ``X = [Ques]Q;[Desc]D;[Keys]K`` (Eq. 9) and returns a
probability over the role bank; ``StrategyPredictor`` reads ``Z = X;[Cont]C`` (Eq. 10) and returns a
probability over the eight helping strategies for the next supporter turn.

The backends sit behind one interface, chosen per language by the saved ``config.json``:

``frozen-encoder``  (default) a frozen sentence encoder from :mod:`empath.encoders` + a small MLP head
                    (numpy inference, safetensors weights small enough to ship in the repo).
``sequence-classification``  a fully fine-tuned ``AutoModelForSequenceClassification`` (the paper's
                    setting: Chinese RoBERTa-large, 4 epochs, lr 1e-5, batch 16), trained with
                    :func:`finetune_sequence_classifier` (``transformers.Trainer``).
``similarity``      (role matching only) no head: cosine between the seeker's text and each role's topic
                    description, for a language without training data.

Roles in the bank that a head was not trained on (a persona added without training data) are scored
by similarity between the seeker's text and the role's topic description.

A saved classifier folder holds ``config.json`` plus weight files; ``RoleMatcher.load(None)`` reads the
shipped default in ``empath/data/classifiers``; a Hub ``org/name@revision`` reference also works.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from ._data import PACKAGE_DATA, DataFileError
from .dialogue import SEEKER, SUPPORTER, Background, Turn, detect_language, format_turns
from .roles import RoleBank, load_roles
from .strategies import STRATEGY_NAMES, normalize_strategy

logger = logging.getLogger(__name__)

DEFAULT_CLASSIFIERS = PACKAGE_DATA / "classifiers"
CONFIG_NAME = "config.json"
FORMAT_VERSION = "empath-classifiers/1"
FROZEN, FINETUNED, SIMILARITY = "frozen-encoder", "sequence-classification", "similarity"
ROLE_TASK, STRATEGY_TASK = "role", "strategy"
STRATEGY_FEATURES = "strategy-features/1"  # bump when strategy_structure() changes


class ClassifierInputError(ValueError):
    """The input cannot be classified (e.g. everything empty); the message says what is missing."""


class UnknownLabelError(KeyError):
    """A training or gold label outside the label set; the message lists the valid labels."""

    def __str__(self) -> str:
        return str(self.args[0])


# ---------------------------------------------------------------------------------------------
# Input formatting (Eq. 9 and 10)
# ---------------------------------------------------------------------------------------------
def _keyword_list(keywords: Iterable[str] | str | None) -> list[str]:
    if keywords is None:
        return []
    if isinstance(keywords, str):
        keywords = [keywords]
    return [k.strip() for k in keywords if isinstance(k, str) and k.strip()]


def format_role_input(question: str = "", description: str = "", keywords: Iterable[str] | str = ()) -> str:
    """``[Ques]Q;[Desc]D;[Keys]K`` (Eq. 9); keywords are joined with commas."""
    keys = ",".join(_keyword_list(keywords))
    return f"[Ques]{(question or '').strip()};[Desc]{(description or '').strip()};[Keys]{keys}"


def format_strategy_input(question: str = "", description: str = "", keywords: Iterable[str] | str = (),
                          context_turns: Sequence[Turn] = (), lang: str = "en",
                          max_turns: int | None = None) -> str:
    """``[Ques]Q;[Desc]D;[Keys]K;[Cont]C`` (Eq. 10); C is the speaker-tagged context (latest ``max_turns``)."""
    return f"{format_role_input(question, description, keywords)};{format_context(context_turns, lang, max_turns)}"


def format_context(context_turns: Sequence[Turn], lang: str = "en", max_turns: int | None = None) -> str:
    """The ``[Cont]C`` part of Eq. 10: the latest ``max_turns`` turns, speaker- and strategy-tagged."""
    turns = list(context_turns)[-max_turns:] if max_turns else list(context_turns)
    return f"[Cont]{format_turns(turns, lang)}"


def _background(background: Background | dict | None) -> Background:
    if background is None:
        return Background()
    if isinstance(background, dict):
        return Background(**background)
    return background


def _turns(context_turns: Iterable[Turn | dict] | None) -> list[Turn]:
    """Validated turns with canonical strategy names (unknown strategies raise with the valid list)."""
    out = []
    for i, t in enumerate(context_turns or ()):
        if isinstance(t, dict):
            t = Turn(**t)
        if t.speaker not in (SEEKER, SUPPORTER):
            raise ClassifierInputError(f"context turn {i}: speaker must be 'seeker' or 'supporter', got {t.speaker!r}")
        strategy = normalize_strategy(t.strategy) if t.strategy else None
        out.append(Turn(t.speaker, (t.text or "").strip(), strategy))
    return out


def role_text(background: Background, use_keywords: bool = True) -> str:
    """The text a role head reads; empty when the background says nothing."""
    bg = _background(background)
    keys = bg.keywords if use_keywords else ()
    if not ((bg.question or "").strip() or (bg.description or "").strip() or _keyword_list(keys)):
        return ""
    return format_role_input(bg.question, bg.description, keys)


def background_lang(background: Background, turns: Sequence[Turn] = ()) -> str:
    bg = _background(background)
    text = " ".join([bg.question or "", bg.description or "", *_keyword_list(bg.keywords)] + [t.text for t in turns[-4:]])
    return detect_language(text)


# ---------------------------------------------------------------------------------------------
# Strategy features for the frozen-encoder backend
# ---------------------------------------------------------------------------------------------
_POSITION_BUCKETS = (0, 1, 2, 3, 4, 6, 8, 11, 15, 20)  # supporter turns so far (lower bounds)
N_STRATEGIES = len(STRATEGY_NAMES)


def strategy_texts(background: Background, turns: Sequence[Turn]) -> tuple[str, str, str, str]:
    """(background, last seeker turn, the seeker turn before it, last supporter turn) texts; '' when absent."""
    seeker = [t.text for t in turns if t.speaker == SEEKER]
    supporter = [t.text for t in turns if t.speaker == SUPPORTER]
    return (role_text(background), seeker[-1] if seeker else "", seeker[-2] if len(seeker) > 1 else "",
            supporter[-1] if supporter else "")


def strategy_structure(turns: Sequence[Turn]) -> np.ndarray:
    """Dialogue-state features: the last two strategies, the strategy history, the stage and turn shape."""
    supporter = [t for t in turns if t.speaker == SUPPORTER]
    one_hot = np.zeros(2 * (N_STRATEGIES + 1), np.float32)
    for k, slot in ((1, 0), (2, N_STRATEGIES + 1)):
        s = supporter[-k].strategy if len(supporter) >= k else None
        one_hot[slot + (STRATEGY_NAMES.index(s) if s else N_STRATEGIES)] = 1.0
    counts = np.zeros(N_STRATEGIES, np.float32)
    for t in supporter:
        if t.strategy:
            counts[STRATEGY_NAMES.index(t.strategy)] += 1
    share = counts / max(1.0, counts.sum())
    position = np.zeros(len(_POSITION_BUCKETS), np.float32)
    position[max(i for i, b in enumerate(_POSITION_BUCKETS) if len(supporter) >= b)] = 1.0
    last = turns[-1] if turns else None
    n_seeker = sum(t.speaker == SEEKER for t in turns)
    shape = np.array([
        float(last is not None and last.speaker == SUPPORTER),  # the supporter goes on talking
        float(last is not None and last.speaker == SEEKER and ("?" in last.text or "？" in last.text)),
        math.log1p(len(last.text)) / 6.0 if last is not None else 0.0,
        math.log1p(n_seeker) / 3.0,
    ], np.float32)
    return np.concatenate([one_hot, share, np.log1p(counts), position, shape])


STRUCTURE_DIM = len(strategy_structure([]))


def strategy_features(items: Sequence[tuple[Background, list[Turn]]], encoder, progress: bool = False) -> np.ndarray:
    """[n, 4 * encoder.dim + STRUCTURE_DIM]: the embedded :func:`strategy_texts` + :func:`strategy_structure`."""
    if not isinstance(encoder, CachedEncoder):  # a bare encoder: empty texts must become zero vectors
        encoder = CachedEncoder(encoder, max_items=None)
    texts = [strategy_texts(bg, turns) for bg, turns in items]
    emb = encoder.encode([t for row in texts for t in row], progress=progress).reshape(len(items), -1)
    structure = np.stack([strategy_structure(turns) for _, turns in items]) if items else np.zeros((0, STRUCTURE_DIM), np.float32)
    return np.concatenate([emb, structure], axis=1)


# ---------------------------------------------------------------------------------------------
# Embedding memo
# ---------------------------------------------------------------------------------------------
class CachedEncoder:
    """A sentence encoder with a text -> vector memo, so a dialogue's background and earlier turns are
    encoded once. ``max_items=None`` keeps everything (training); ``path`` persists it (an ``.npz``).
    Thread-safe: encoding happens outside the lock, only the memo is guarded."""

    def __init__(self, encoder, max_items: int | None = 4096, path: str | os.PathLike | None = None):
        self.encoder = encoder
        self.name, self.dim = encoder.name, encoder.dim
        self.max_items = max_items
        self.path = Path(path) if path else None
        self._memo: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._dirty = False
        if self.path is not None and self.path.exists():
            data = np.load(self.path, allow_pickle=False)
            texts = json.loads(data["texts_json"].tobytes().decode("utf-8"))
            self._memo.update(zip(texts, data["vectors"]))

    def encode(self, texts: Sequence[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        texts = [t.strip() for t in texts]
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t and t not in self._memo))
        if missing:
            chunks = range(0, len(missing), 512)
            if progress:
                from tqdm.auto import tqdm

                chunks = tqdm(chunks, desc=f"encoding with {self.name}", unit="x512")
            vectors = np.concatenate([self.encoder.encode(missing[i:i + 512], batch_size=batch_size) for i in chunks])
            with self._lock:
                self._memo.update(zip(missing, vectors))
                self._dirty = True
        out = np.zeros((len(texts), self.dim), np.float32)
        with self._lock:
            for i, t in enumerate(texts):
                if t:
                    out[i] = self._memo[t]
                    self._memo.move_to_end(t)
            while self.max_items is not None and len(self._memo) > self.max_items:
                self._memo.popitem(last=False)
        return out

    def save(self) -> None:
        if self.path is None or not self._dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            texts = list(self._memo)
            vectors = np.stack(list(self._memo.values())) if texts else np.zeros((0, self.dim), np.float32)
        tmp = self.path.with_name(self.path.stem + ".tmp.npz")
        texts_json = np.frombuffer(json.dumps(texts, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)
        np.savez(tmp, texts_json=texts_json, vectors=vectors)
        os.replace(tmp, self.path)
        self._dirty = False


_encoders: dict[str, CachedEncoder] = {}
_encoders_lock = threading.Lock()


def register_encoder(encoder, name: str | None = None) -> CachedEncoder:
    """Make ``encoder`` (anything with ``name``, ``dim`` and ``encode(texts)``) the one used under ``name``
    by saved heads; e.g. an in-house encoder, or a tiny stand-in in tests."""
    with _encoders_lock:
        _encoders[name or encoder.name] = encoder if isinstance(encoder, CachedEncoder) else CachedEncoder(encoder)
        return _encoders[name or encoder.name]


def cached_encoder(name: str) -> CachedEncoder:
    """One shared memoised encoder per name (loaded on first use)."""
    with _encoders_lock:
        if name not in _encoders:
            from .encoders import get_encoder

            _encoders[name] = CachedEncoder(get_encoder(name))
        return _encoders[name]


# ---------------------------------------------------------------------------------------------
# The MLP head (trained in torch, served in numpy)
# ---------------------------------------------------------------------------------------------
@dataclass
class MLPHead:
    """Standardise -> [Linear -> GELU]* -> Linear. ``params``: mean, scale, w0, b0, w1, b1, ..."""

    labels: tuple[str, ...]
    params: dict[str, np.ndarray]

    @property
    def n_layers(self) -> int:
        return sum(1 for k in self.params if k.startswith("w"))

    @property
    def input_dim(self) -> int:
        return int(self.params["mean"].shape[0])

    def logits(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float32)
        if x.ndim != 2 or x.shape[1] != self.input_dim:
            raise ClassifierInputError(f"head expects features of shape [n, {self.input_dim}], got {list(x.shape)}")
        h = (x - self.params["mean"]) / self.params["scale"]
        for i in range(self.n_layers):
            h = h @ self.params[f"w{i}"].T + self.params[f"b{i}"]
            if i < self.n_layers - 1:
                h = 0.5 * h * (1.0 + np.tanh(_GELU_C * (h + 0.044715 * h**3)))  # torch GELU(approximate="tanh")
        return h

    def proba(self, x: np.ndarray) -> np.ndarray:
        return _softmax(self.logits(x))

    def save(self, path: str | os.PathLike) -> None:
        from safetensors.numpy import save_file

        save_file({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in self.params.items()}, str(path),
                  metadata={"labels": json.dumps(list(self.labels), ensure_ascii=False)})

    @classmethod
    def load(cls, path: str | os.PathLike, labels: Sequence[str] | None = None) -> "MLPHead":
        params, labels = load_labelled_weights(path, labels)
        n_out = params[f"w{sum(1 for k in params if k.startswith('w')) - 1}"].shape[0]
        if len(labels) != n_out:
            raise DataFileError(f"{path}: head has {n_out} outputs but {len(labels)} labels")
        return cls(labels, params)


def load_labelled_weights(path: str | os.PathLike, labels: Sequence[str] | None = None) -> tuple[dict, tuple]:
    """numpy arrays of a safetensors file and its labels (given ones win over the file's ``labels`` metadata)."""
    from safetensors import safe_open
    from safetensors.numpy import load_file

    path = Path(path)
    if not path.exists():
        raise DataFileError(f"{path}: weights file not found")
    params = load_file(str(path))
    with safe_open(str(path), framework="numpy") as fh:
        stored = json.loads((fh.metadata() or {}).get("labels", "null"))
    return params, tuple(labels or stored or ())


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


_GELU_C = math.sqrt(2.0 / math.pi)


def train_head(features: np.ndarray, labels: Sequence[str], label_names: Sequence[str],
               valid: tuple[np.ndarray, Sequence[str]] | None = None, *, hidden: Sequence[int] = (256,),
               dropout: float = 0.5, input_dropout: float = 0.1, weight_decay: float = 1e-2, lr: float = 1e-3,
               epochs: int = 40, batch_size: int = 128, patience: int = 8, label_smoothing: float = 0.1,
               class_weight: str | None = None, standardize: bool = True, seed: int = 0, progress: bool = True,
               desc: str = "head") -> tuple[MLPHead, dict[str, Any]]:
    """Fit an MLP head (``hidden=()``: multinomial logistic regression) with AdamW; with ``valid`` keep the
    epoch with the best valid accuracy and stop after ``patience`` epochs without improvement.
    Seeded and deterministic on CPU."""
    import torch

    label_names = tuple(label_names)
    index = {name: i for i, name in enumerate(label_names)}

    def encode_labels(ys: Sequence[str], where: str) -> np.ndarray:
        out = np.empty(len(ys), np.int64)
        for i, y in enumerate(ys):
            if y not in index:
                raise UnknownLabelError(f"{where} example {i}: unknown label {y!r}; valid labels: {', '.join(label_names)}")
            out[i] = index[y]
        return out

    x = np.asarray(features, np.float32)
    if x.ndim != 2 or len(x) != len(labels) or len(x) == 0:
        raise ValueError(f"features must be [n, d] with one label per row (got {list(x.shape)} and {len(labels)} labels)")
    y = encode_labels(labels, "training")
    # standardize=False keeps unit-norm embeddings small next to 0/1 features: a built-in prior that
    # the few dialogue-state features matter more per dimension than any single embedding dimension
    mean = x.mean(0) if standardize else np.zeros(x.shape[1], np.float32)
    scale = x.std(0) + 1e-3 if standardize else np.ones(x.shape[1], np.float32)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    dims = [x.shape[1], *hidden, len(label_names)]
    layers: list[torch.nn.Module] = [torch.nn.Dropout(input_dropout)]
    for i in range(len(dims) - 1):
        layers.append(torch.nn.Linear(dims[i], dims[i + 1]))
        if i < len(dims) - 2:
            layers += [torch.nn.GELU(approximate="tanh"), torch.nn.Dropout(dropout)]
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    xt = torch.from_numpy((x - mean) / scale)
    yt = torch.from_numpy(y)
    weight = None
    if class_weight == "balanced":
        counts = np.bincount(y, minlength=len(label_names)).astype(np.float32)
        weight = torch.from_numpy(np.where(counts > 0, len(y) / (len(label_names) * np.maximum(counts, 1)), 0.0).astype(np.float32))
    if valid is not None:
        xv = torch.from_numpy((np.asarray(valid[0], np.float32) - mean) / scale)
        yv = encode_labels(valid[1], "validation")

    def snapshot() -> dict[str, np.ndarray]:
        linears = [m for m in model if isinstance(m, torch.nn.Linear)]
        params = {"mean": mean, "scale": scale}
        for i, lin in enumerate(linears):
            params[f"w{i}"] = lin.weight.detach().numpy().copy()
            params[f"b{i}"] = lin.bias.detach().numpy().copy()
        return params

    history: dict[str, Any] = {"train_loss": [], "valid_accuracy": [], "best_epoch": None}
    best, best_acc, stale = snapshot(), -1.0, 0
    from tqdm.auto import trange

    bar = trange(epochs, desc=desc, disable=not progress)
    for epoch in bar:
        model.train()
        perm = torch.randperm(len(xt), generator=gen)
        total = 0.0
        for i in range(0, len(xt), batch_size):
            b = perm[i:i + batch_size]
            loss = torch.nn.functional.cross_entropy(model(xt[b]), yt[b], weight=weight, label_smoothing=label_smoothing)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(b)
        history["train_loss"].append(total / len(xt))
        if valid is None:
            best, history["best_epoch"] = snapshot(), epoch
            continue
        model.eval()
        with torch.no_grad():
            acc = float((model(xv).argmax(1).numpy() == yv).mean())
        history["valid_accuracy"].append(acc)
        bar.set_postfix(valid_acc=f"{acc:.3f}")
        if acc > best_acc:
            best, best_acc, stale, history["best_epoch"] = snapshot(), acc, 0, epoch
        else:
            stale += 1
            if stale >= patience:
                break
    return MLPHead(label_names, best), history


# ---------------------------------------------------------------------------------------------
# Backends: one scorer per (task, language)
# ---------------------------------------------------------------------------------------------
class FrozenEncoderScorer:
    """A frozen sentence encoder + an :class:`MLPHead`."""

    backend = FROZEN

    def __init__(self, task: str, encoder: str, head: MLPHead, features: str | None = None, **extra):
        self.task, self.encoder_name, self.head = task, encoder, head
        self.features = features or (STRATEGY_FEATURES if task == STRATEGY_TASK else "role-text/1")
        self.extra = extra
        if task == STRATEGY_TASK and self.features != STRATEGY_FEATURES:
            raise DataFileError(f"strategy head uses features {self.features!r}; this Empath computes {STRATEGY_FEATURES!r}")

    @property
    def labels(self) -> tuple[str, ...]:
        return self.head.labels

    @property
    def encoder(self) -> CachedEncoder:
        return cached_encoder(self.encoder_name)

    def role_features(self, texts: Sequence[str], encoder: CachedEncoder | None = None) -> np.ndarray:
        return (encoder or self.encoder).encode(texts)

    def strategy_features(self, items: Sequence[tuple[Background, list[Turn]]], progress: bool = False) -> np.ndarray:
        return strategy_features(items, self.encoder, progress)

    def proba(self, task_inputs) -> np.ndarray:
        if self.task == ROLE_TASK:
            return self.head.proba(self.role_features(task_inputs))
        return self.head.proba(self.strategy_features(task_inputs))

    def save(self, folder: Path, stem: str) -> dict:
        self.head.save(folder / f"{stem}.safetensors")
        return {"backend": FROZEN, "encoder": self.encoder_name, "weights": f"{stem}.safetensors",
                "labels": list(self.labels), "features": self.features, **self.extra}

    @classmethod
    def from_config(cls, task: str, folder: Path, cfg: dict) -> "FrozenEncoderScorer":
        extra = {k: v for k, v in cfg.items() if k not in ("backend", "encoder", "weights", "labels", "features")}
        head = MLPHead.load(folder / cfg["weights"], cfg.get("labels"))
        return cls(task, cfg["encoder"], head, cfg.get("features"), **extra)


def strategy_pair(background: Background, turns: Sequence[Turn], max_turns: int | None = 12) -> tuple[str, str]:
    """The fine-tuned strategy input: (Eq. 9 background, ``[Cont]`` context of the latest ``max_turns`` turns)."""
    return role_text(background), format_context(turns, background_lang(background, turns), max_turns)


_TRUNCATION_LOCK = threading.Lock()


def tokenize_inputs(tokenizer, texts: Sequence[str | tuple[str, str]], max_length: int, **kwargs):
    """Tokenise plain texts, or (background, context) pairs whose overflow is cut from the left: the
    oldest context turns go first and the seeker's latest words always stay (a plain right cut would drop
    exactly the turn the next strategy answers)."""
    if not texts or not isinstance(texts[0], tuple):
        return tokenizer(list(texts), truncation=True, max_length=max_length, **kwargs)
    with _TRUNCATION_LOCK:  # the side is tokenizer state; other threads may share this tokenizer
        side, tokenizer.truncation_side = tokenizer.truncation_side, "left"
        try:
            return tokenizer([a for a, _ in texts], [b for _, b in texts], truncation="longest_first",
                             max_length=max_length, **kwargs)
        finally:
            tokenizer.truncation_side = side


class SequenceClassifierScorer:
    """A fine-tuned ``AutoModelForSequenceClassification`` reading the Eq. 9/10 text."""

    backend = FINETUNED

    def __init__(self, task: str, model, tokenizer, max_length: int = 512, max_turns: int | None = 12, **extra):
        self.task, self.model, self.tokenizer = task, model.eval(), tokenizer
        self.max_length, self.max_turns = max_length, max_turns
        self.extra = extra
        id2label = model.config.id2label
        self._labels = tuple(id2label[i] for i in range(len(id2label)))

    @property
    def labels(self) -> tuple[str, ...]:
        return self._labels

    def text(self, task_input) -> str | tuple[str, str]:
        """Role: the Eq. 9 text. Strategy: the pair (Eq. 9 background, ``[Cont]`` context) — a pair so that
        truncation can cut the oldest context turns and keep the latest ones (see :func:`tokenize_inputs`)."""
        return task_input if self.task == ROLE_TASK else strategy_pair(*task_input, self.max_turns)

    def proba(self, task_inputs) -> np.ndarray:
        import torch

        texts = [self.text(x) for x in task_inputs]
        out = []
        device = next(self.model.parameters()).device
        for i in range(0, len(texts), 32):
            batch = tokenize_inputs(self.tokenizer, texts[i:i + 32], self.max_length, padding=True,
                                    return_tensors="pt").to(device)
            with torch.inference_mode():
                out.append(torch.softmax(self.model(**batch).logits.float(), -1).cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, len(self.labels)), np.float32)

    def save(self, folder: Path, stem: str) -> dict:
        self.model.save_pretrained(folder / stem, safe_serialization=True)
        self.tokenizer.save_pretrained(folder / stem)
        return {"backend": FINETUNED, "model": stem, "labels": list(self.labels), "max_length": self.max_length,
                "max_turns": self.max_turns, **self.extra}

    @classmethod
    def from_config(cls, task: str, folder: Path, cfg: dict) -> "SequenceClassifierScorer":
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        from .hub import auto_device

        path = folder / cfg["model"]
        if not path.is_dir():
            raise DataFileError(f"{folder / CONFIG_NAME}: model folder {path} not found")
        device, _ = auto_device()
        model = AutoModelForSequenceClassification.from_pretrained(path, use_safetensors=True, trust_remote_code=False).to(device)
        tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=False)
        extra = {k: v for k, v in cfg.items() if k not in ("backend", "model", "labels", "max_length", "max_turns")}
        return cls(task, model, tokenizer, cfg.get("max_length", 512), cfg.get("max_turns", 12), **extra)


class SimilarityScorer:
    """No trained head: every role is scored by similarity to its topic description (role matching only).
    Used where no training data in the language exists (the shipped Chinese role matcher)."""

    backend = SIMILARITY
    labels: tuple[str, ...] = ()

    def __init__(self, task: str, encoder: str, **extra):
        if task != ROLE_TASK:
            raise DataFileError(f"the {SIMILARITY!r} backend only serves role matching, not {task!r}")
        self.task, self.encoder_name, self.extra = task, encoder, extra

    @property
    def encoder(self) -> CachedEncoder:
        return cached_encoder(self.encoder_name)

    def role_features(self, texts: Sequence[str]) -> np.ndarray:
        return self.encoder.encode(texts)

    def save(self, folder: Path, stem: str) -> dict:
        return {"backend": SIMILARITY, "encoder": self.encoder_name, **self.extra}

    @classmethod
    def from_config(cls, task: str, folder: Path, cfg: dict) -> "SimilarityScorer":
        return cls(task, cfg["encoder"], **{k: v for k, v in cfg.items() if k not in ("backend", "encoder")})


_BACKENDS = {FROZEN: FrozenEncoderScorer, FINETUNED: SequenceClassifierScorer, SIMILARITY: SimilarityScorer}


# ---------------------------------------------------------------------------------------------
# Loading / saving a classifier folder
# ---------------------------------------------------------------------------------------------
def classifier_folder(path_or_repo: str | os.PathLike | None = None) -> Path:
    """A local folder for ``None`` (shipped default), a folder path or a Hub ``org/name@revision``."""
    if path_or_repo is None or str(path_or_repo).strip() in ("", "default"):
        return DEFAULT_CLASSIFIERS
    from .hub import resolve

    return resolve(path_or_repo)


def read_config(folder: Path) -> dict:
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


def _load_scorers(task: str, folder: Path, config: dict) -> tuple[dict[str, Any], str]:
    section = config.get(task)
    if not section or not section.get("heads"):
        return {}, "en"
    scorers = {}
    for lang, cfg in section["heads"].items():
        backend = cfg.get("backend")
        if backend == "sequence-gru" and backend not in _BACKENDS:  # strategy over the whole dialogue
            from .strategy_sequence import SEQUENCE, SequenceScorer

            _BACKENDS[SEQUENCE] = SequenceScorer
        if backend not in _BACKENDS:
            raise DataFileError(f"{folder / CONFIG_NAME}: {task}.{lang}: unknown backend {backend!r}; valid: {', '.join(_BACKENDS)}")
        scorers[lang] = _BACKENDS[backend].from_config(task, folder, cfg)
    default = section.get("default_lang") or next(iter(scorers))
    return scorers, default


def _write_section(folder: str | os.PathLike, task: str, scorers: dict[str, Any], default_lang: str,
                   extra: dict | None = None) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / CONFIG_NAME
    config = read_config(folder) if path.exists() else {"format": FORMAT_VERSION}
    heads = {lang: scorer.save(folder, f"{task}_{lang}") for lang, scorer in scorers.items()}
    config[task] = {"default_lang": default_lang, "heads": heads, **(extra or {})}
    path.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return folder


def _pick(scorers: dict[str, Any], default_lang: str, lang: str):
    return scorers.get(lang) or scorers[default_lang]


# ---------------------------------------------------------------------------------------------
# Public predictors
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RolePrediction:
    role: str
    probs: dict[str, float]
    lang: str = "en"
    source: str = "head"  # "head" | "similarity" (a role the head was not trained on won) | "keyword"


@dataclass(frozen=True)
class StrategyPrediction:
    strategy: str
    probs: dict[str, float]
    lang: str = "en"


KEYWORD_WEIGHT = 0.9  # probability mass a topic-naming first keyword moves to its persona
_KEYWORD_SEPARATORS = re.compile(r"[,，、;；/|\s]+")


def keyword_role(keywords: Iterable[str] | str | None, roles: RoleBank) -> str | None:
    """The persona of the topic the first keyword names (PsyQA: ``成长,迷茫`` -> the 成长 persona), looked up
    among the role bank's topic ids and English/Chinese names (``roles.yaml``); None when it names none."""
    keys = _keyword_list(keywords)
    first = next((k for k in _KEYWORD_SEPARATORS.split(keys[0]) if k), "") if keys else ""
    if not first:
        return None
    try:
        return roles.role_for_topic(roles.topic(first).id).id
    except KeyError:
        return None


class RoleMatcher:
    """Picks the persona for a seeker's background (Eq. 9); probabilities cover the whole role bank.

    Keywords, when given, are read the PsyQA way: a first keyword that names a topic of the role bank
    (``成长``, ``Career``...) moves ``KEYWORD_WEIGHT`` of the probability to that topic's persona
    (``source="keyword"``); other keywords are only part of the text the head reads.

    ``scorers`` maps a language (``en``/``zh``) to a backend; the detected language picks one (else
    ``default_lang``). Roles the head lacks get similarity scores against their topic description
    (softmax over cosine / temperature across all roles; the temperature is calibrated per head on
    its training data, ``temperature`` is the default); that mass is taken from the head's roles,
    so the head's ranking among its own roles never changes.
    """

    def __init__(self, scorers: dict[str, Any] | None = None, default_lang: str = "en",
                 roles: RoleBank | None = None, temperature: float = 0.05,
                 fallback_encoders: dict[str, str] | None = None, fallback: bool = True):
        self.scorers = dict(scorers or {})
        self.fallback = fallback  # False: roles without a head class get probability 0
        self.default_lang = default_lang if default_lang in self.scorers or not self.scorers else next(iter(self.scorers))
        self.roles = roles or load_roles()
        self.temperature = float(temperature)
        from .encoders import DEFAULT_ENCODER, MULTILINGUAL_ENCODER

        self.fallback_encoders = {"en": DEFAULT_ENCODER, "zh": MULTILINGUAL_ENCODER, **(fallback_encoders or {})}
        self._descriptions: dict[tuple[str, str], np.ndarray] = {}
        self._lock = threading.Lock()
        for lang, scorer in self.scorers.items():
            dropped = [r for r in scorer.labels if r not in self.roles]
            if dropped:
                logger.warning("role head %s was trained on roles missing from the role bank (%s): ignored",
                               lang, ", ".join(dropped))

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def load(cls, path_or_repo: str | os.PathLike | None = None, roles: RoleBank | None = None,
             fallback: bool = True) -> "RoleMatcher":
        folder = classifier_folder(path_or_repo)
        config = read_config(folder)
        scorers, default = _load_scorers(ROLE_TASK, folder, config)
        section = config.get(ROLE_TASK) or {}
        return cls(scorers, default, roles, section.get("temperature", 0.05), section.get("fallback_encoders"), fallback)

    def save(self, folder: str | os.PathLike, **extra) -> Path:
        return _write_section(folder, ROLE_TASK, self.scorers, self.default_lang,
                              {"temperature": self.temperature, "fallback_encoders": self.fallback_encoders, **extra})

    # -- inference ------------------------------------------------------------------------------
    def untrained_roles(self, lang: str | None = None) -> list[str]:
        """Roles in the bank the head for ``lang`` has no class for (scored by similarity)."""
        if not self.scorers:
            return list(self.roles.ids)
        scorer = _pick(self.scorers, self.default_lang, lang or self.default_lang)
        return [r for r in self.roles.ids if r not in scorer.labels] if self.fallback else []

    def _description_matrix(self, encoder: CachedEncoder, lang: str) -> np.ndarray:
        key = (encoder.name, lang)
        with self._lock:
            cached = self._descriptions.get(key)
        if cached is None:
            texts = []
            for role in self.roles:
                topic = self.roles.topic(role.topic)
                texts.append(f"{topic.name(lang)}: {topic.description(lang)}")
            cached = encoder.encoder.encode(texts)
            with self._lock:
                self._descriptions[key] = cached
        return cached

    def predict(self, question: str = "", description: str = "", keywords: Iterable[str] | str = (),
                lang: str | None = None) -> RolePrediction:
        return self.predict_batch([Background(question or "", description or "", _keyword_list(keywords))], lang=lang)[0]

    def predict_batch(self, backgrounds: Sequence[Background], lang: str | None = None,
                      use_keywords: bool = True) -> list[RolePrediction]:
        texts = []
        langs = []
        for i, bg in enumerate(backgrounds):
            text = role_text(bg, use_keywords)
            if not text:
                raise ClassifierInputError(
                    f"role matching input {i} is empty: give a question, a description or keywords")
            texts.append(text)
            langs.append(lang or background_lang(bg))
        out: list[RolePrediction | None] = [None] * len(texts)
        for group_lang in dict.fromkeys(langs):
            idx = [i for i, l in enumerate(langs) if l == group_lang]
            probs = self._proba([texts[i] for i in idx], group_lang)
            for row, i in zip(probs, idx):
                keyed = keyword_role(backgrounds[i].keywords, self.roles) if use_keywords else None
                if keyed is not None:  # PsyQA: the first keyword names the topic outright
                    row = (1.0 - KEYWORD_WEIGHT) * row
                    row[self.roles.ids.index(keyed)] += KEYWORD_WEIGHT
                best = int(row.argmax())
                role = self.roles.ids[best]
                source = "keyword" if keyed is not None else \
                    "similarity" if role in self.untrained_roles(group_lang) else "head"
                out[i] = RolePrediction(role, {r: float(p) for r, p in zip(self.roles.ids, row)}, group_lang, source)
        return out

    def _proba(self, texts: list[str], lang: str) -> np.ndarray:
        ids = self.roles.ids
        if not self.scorers:
            encoder = cached_encoder(self.fallback_encoders.get(lang, self.fallback_encoders["en"]))
            return self._similarity(encoder.encode(texts), encoder, lang, self.temperature)
        scorer = _pick(self.scorers, self.default_lang, lang)
        temperature = float(scorer.extra.get("temperature", self.temperature))
        untrained = [r for r in ids if r not in scorer.labels] if self.fallback else []
        if isinstance(scorer, SimilarityScorer):
            return self._similarity(scorer.role_features(texts), scorer.encoder, lang, temperature)
        if isinstance(scorer, FrozenEncoderScorer):
            emb = scorer.role_features(texts)
            head = scorer.head.proba(emb)
            encoder = scorer.encoder
        else:
            head = scorer.proba(texts)
            encoder, emb = None, None
            if untrained:  # the fallback encoder loads only when some role needs it
                encoder = cached_encoder(self.fallback_encoders.get(lang, self.fallback_encoders["en"]))
                emb = encoder.encode(texts)
        probs = np.zeros((len(texts), len(ids)), np.float32)
        known = [(ids.index(r), j) for j, r in enumerate(scorer.labels) if r in self.roles]
        cols, head_cols = [c for c, _ in known], [j for _, j in known]
        head = head[:, head_cols]
        head = head / np.maximum(head.sum(1, keepdims=True), 1e-12)
        if untrained:
            sim = self._similarity(emb, encoder, lang, temperature)
            new = [ids.index(r) for r in untrained]
            probs[:, new] = sim[:, new]
            probs[:, cols] = head * (1.0 - sim[:, new].sum(1, keepdims=True))
        else:
            probs[:, cols] = head
        return probs

    def _similarity(self, emb: np.ndarray, encoder: CachedEncoder, lang: str, temperature: float) -> np.ndarray:
        sims = emb @ self._description_matrix(encoder, lang).T
        return _softmax(sims / temperature)


class StrategyPredictor:
    """Predicts the strategy of the next supporter turn from the background and the dialogue so far (Eq. 10)."""

    def __init__(self, scorers: dict[str, Any], default_lang: str = "en"):
        if not scorers:
            raise DataFileError("a StrategyPredictor needs at least one trained head")
        self.scorers = dict(scorers)
        self.default_lang = default_lang if default_lang in self.scorers else next(iter(self.scorers))
        for lang, scorer in self.scorers.items():
            unknown = [s for s in scorer.labels if s not in STRATEGY_NAMES]
            if unknown:
                raise DataFileError(f"strategy head {lang} has unknown labels {unknown}; valid: {', '.join(STRATEGY_NAMES)}")

    @classmethod
    def load(cls, path_or_repo: str | os.PathLike | None = None) -> "StrategyPredictor":
        folder = classifier_folder(path_or_repo)
        scorers, default = _load_scorers(STRATEGY_TASK, folder, read_config(folder))
        if not scorers:
            raise DataFileError(f"{folder / CONFIG_NAME}: no strategy head")
        return cls(scorers, default)

    def save(self, folder: str | os.PathLike, **extra) -> Path:
        return _write_section(folder, STRATEGY_TASK, self.scorers, self.default_lang, extra)

    def predict(self, background: Background | dict | None, context_turns: Sequence[Turn | dict] = (),
                lang: str | None = None) -> StrategyPrediction:
        return self.predict_batch([(background, context_turns)], lang=lang)[0]

    def predict_batch(self, items: Sequence[tuple[Background | None, Sequence[Turn]]], lang: str | None = None,
                      progress: bool = False) -> list[StrategyPrediction]:
        prepared, langs = [], []
        for i, (bg, turns) in enumerate(items):
            bg, turns = _background(bg), _turns(turns)
            if not role_text(bg) and not turns:
                raise ClassifierInputError(
                    f"strategy prediction input {i} is empty: give a background or at least one context turn")
            prepared.append((bg, turns))
            langs.append(lang or background_lang(bg, turns))
        out: list[StrategyPrediction | None] = [None] * len(prepared)
        for group_lang in dict.fromkeys(langs):
            idx = [i for i, l in enumerate(langs) if l == group_lang]
            scorer = _pick(self.scorers, self.default_lang, group_lang)
            chunk = [prepared[i] for i in idx]
            if isinstance(scorer, FrozenEncoderScorer):
                probs = scorer.head.proba(scorer.strategy_features(chunk, progress=progress))
            else:
                probs = scorer.proba(chunk)
            for row, i in zip(probs, idx):
                dist = {s: 0.0 for s in STRATEGY_NAMES}
                dist.update({s: float(p) for s, p in zip(scorer.labels, row)})
                out[i] = StrategyPrediction(max(dist, key=dist.get), dist, group_lang)
        return out


def load_classifiers(ref: str | os.PathLike | None = None, roles: RoleBank | None = None) -> tuple[RoleMatcher, StrategyPredictor]:
    """Both classifiers from one folder / Hub repo (``None``: the shipped default)."""
    return RoleMatcher.load(ref, roles=roles), StrategyPredictor.load(ref)


# ---------------------------------------------------------------------------------------------
# Full fine-tuning (GPU users; the paper's recipe)
# ---------------------------------------------------------------------------------------------
def finetune_sequence_classifier(model, tokenizer, task: str, texts: Sequence[str | tuple[str, str]],
                                 labels: Sequence[str], label_names: Sequence[str], output_dir: str | os.PathLike,
                                 valid: tuple[Sequence, Sequence[str]] | None = None, *,
                                 epochs: float = 4, learning_rate: float = 1e-5, batch_size: int = 16,
                                 max_length: int = 512, seed: int = 42, max_turns: int | None = 12,
                                 **training_args) -> tuple[SequenceClassifierScorer, dict]:
    """Fine-tune an ``AutoModelForSequenceClassification`` (built with ``num_labels=len(label_names)``) on
    formatted Eq. 9/10 inputs (:meth:`SequenceClassifierScorer.text`) with ``transformers.Trainer``; the best
    valid-accuracy checkpoint is kept. bf16 mixed precision where the GPU has it."""
    import torch
    from transformers import Trainer, TrainingArguments

    label_names = list(label_names)
    index = {n: i for i, n in enumerate(label_names)}

    def ids(ys, where):
        for i, y in enumerate(ys):
            if y not in index:
                raise UnknownLabelError(f"{where} example {i}: unknown label {y!r}; valid labels: {', '.join(label_names)}")
        return [index[y] for y in ys]

    class _Texts(torch.utils.data.Dataset):
        def __init__(self, xs, ys):
            self.enc = tokenize_inputs(tokenizer, list(xs), max_length)
            self.ys = ys

        def __len__(self):
            return len(self.ys)

        def __getitem__(self, i):
            return {**{k: v[i] for k, v in self.enc.items()}, "labels": self.ys[i]}

    model.config.id2label = dict(enumerate(label_names))
    model.config.label2id = dict(index)
    train_set = _Texts(texts, ids(labels, "training"))
    eval_set = _Texts(valid[0], ids(valid[1], "validation")) if valid else None

    def accuracy(pred):
        return {"accuracy": float((np.asarray(pred.predictions).argmax(-1) == pred.label_ids).mean())}

    select = eval_set is not None
    settings = dict(
        output_dir=str(output_dir), num_train_epochs=epochs, learning_rate=learning_rate,
        per_device_train_batch_size=batch_size, per_device_eval_batch_size=batch_size, seed=seed,
        eval_strategy="epoch" if select else "no", save_strategy="epoch" if select else "no",
        load_best_model_at_end=select, metric_for_best_model="accuracy", save_total_limit=1,
        report_to=[], logging_steps=50, bf16=bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported()))
    args = TrainingArguments(**{**settings, **training_args})
    from transformers import DataCollatorWithPadding

    trainer = Trainer(model=model, args=args, train_dataset=train_set, eval_dataset=eval_set,
                      data_collator=DataCollatorWithPadding(tokenizer), compute_metrics=accuracy if eval_set else None)
    result = trainer.train()
    metrics = dict(result.metrics)
    if eval_set is not None:
        metrics.update(trainer.evaluate())
    return SequenceClassifierScorer(task, trainer.model, tokenizer, max_length, max_turns), metrics
