"""Learned second stage of the crisis detector: a linear classifier over character/word n-grams and
sentence embeddings.

The rules in ``empath/data/safety.yaml`` are precise but only catch the phrasings they were written
for; this model generalises to new wordings, slang and typos in English and Chinese. Features of a
message: TF-IDF of :func:`ngram_features` (scikit-learn ``TfidfVectorizer`` with that function as its
analyzer, sublinear tf, L2 norm), followed by the embedding of every configured sentence encoder
(``empath.encoders.get_encoder``) whose ``langs`` include the message language (zeros otherwise).
A multinomial ``LogisticRegression`` over ``LABELS`` reads them; optionally a small ensemble of one-hidden-layer
perceptrons (``MLPHead``, ReLU, softmax) reads the embeddings alone, and the crisis probability is the weighted
mean of the two (``mlp_weight``; with a share of 0, as shipped since round 14, they are not run): in rounds 5-13 the
perceptrons separated calm plans and farewells from everyday ones better than a linear read of the same vectors.
Trained by ``training/train_safety.py`` and shipped without pickle:

    empath/data/safety_model/config.json        labels, n-gram ranges, character map, encoders, threshold, metrics
    empath/data/safety_model/vocabulary.json    the n-gram features, in column order
    empath/data/safety_model/model.safetensors  idf [V], coef [C, V], intercept [C], coef.<encoder> [C, dim],
                                                mlp.<member>.<layer>.weight [in, out] / .bias [out]
    empath/data/safety_model/encoder_head/      optional (since round 16): a sentence encoder fine-tuned on the same
                                                data (``empath.encoder_classifier``, LoRA + linear head), trained by
                                                ``training/train_safety_encoder.py``; ``mixing.json`` names its
                                                languages, its share of their crisis probability, their threshold
                                                and the floor of the regression's probability under which it is
                                                not run (a forward pass saved on most ordinary messages)

Inference needs numpy and the encoders only (torch and PEFT too when the folder has an encoder head), and the
regression computes exactly what the fitted scikit-learn pipeline computes (``tests/test_safety.py`` checks this).
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ._data import PACKAGE_DATA, DataFileError
from .lang import detect_language

DEFAULT_MODEL_DIR = PACKAGE_DATA / "safety_model"
DEFAULT_FOLLOWUP_MODEL_DIR = PACKAGE_DATA / "safety_followup_model"  # the next message after a flagged turn
ENCODER_HEAD_DIR = "encoder_head"  # inside a model folder
ENCODER_HEAD_MIXING = "mixing.json"  # {"langs": [...], "weight": w, "threshold": t, "floor": f, ...}
LABELS = ("none", "suicide", "self_harm", "harm_to_others")  # column 0 is "no crisis"

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'"})
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"[a-z0-9']+")


@dataclass(frozen=True)
class FeatureConfig:
    """How a message becomes n-grams; stored in ``config.json`` so training and inference agree."""

    char_ngrams: tuple[int, int] = (1, 4)
    word_ngrams: tuple[int, int] = (1, 2)
    char_map: str = ""  # pairs of characters, e.g. Traditional -> Simplified ("體体...")

    def to_dict(self) -> dict:
        return {"char_ngrams": list(self.char_ngrams), "word_ngrams": list(self.word_ngrams),
                "char_map": self.char_map}

    @classmethod
    def from_dict(cls, data: dict) -> FeatureConfig:
        return cls(tuple(data["char_ngrams"]), tuple(data["word_ngrams"]), data.get("char_map", ""))


def normalize(text: str, char_map: dict | None = None) -> str:
    text = text.lower().translate(_APOSTROPHES)
    if char_map:
        text = text.translate(char_map)
    return _SPACES.sub(" ", text).strip()


def ngram_features(text: str, config: FeatureConfig, char_map: dict | None = None) -> list[str]:
    """Character n-grams of the padded, normalised message ("c:...") plus word n-grams of its Latin
    words ("w:..."). Deterministic; used both as the scikit-learn analyzer and at inference."""
    text = normalize(text, char_map)
    padded = f" {text} "
    low, high = config.char_ngrams
    features = [f"c:{padded[i:i + n]}" for n in range(low, high + 1) for i in range(len(padded) - n + 1)]
    words = _WORD.findall(text)
    low, high = config.word_ngrams
    features += [f"w:{' '.join(words[i:i + n])}" for n in range(low, high + 1) for i in range(len(words) - n + 1)]
    return features


def message_languages(texts: list[str], langs: list[str | None] | None) -> list[str]:
    """Each text's language: the given one, else detected."""
    return [lang or detect_language(text) for text, lang in zip(texts, langs or [None] * len(texts))]


@dataclass(frozen=True)
class EncoderFeature:
    """A sentence encoder whose embedding is a feature block for messages in ``langs``."""

    name: str
    langs: tuple[str, ...]

    def to_dict(self) -> dict:
        return {"name": self.name, "langs": list(self.langs)}


def embedding_block(encoder: EncoderFeature, texts: list[str], langs: list[str]) -> np.ndarray:
    """[n, dim] embeddings of the texts in the encoder's languages, zero rows for the others."""
    from .encoder_cache import cached_encoder

    model = cached_encoder(encoder.name)  # the turn's other stages reuse these embeddings of the message
    block = np.zeros((len(texts), model.dim), dtype=np.float64)
    rows = [i for i, lang in enumerate(langs) if lang in encoder.langs]
    if rows:
        block[rows] = model.encode([texts[i] for i in rows])
    return block


@dataclass(frozen=True)
class MLPHead:
    """One perceptron of the ensemble: ``layers`` of (weight [in, out], bias [out]), ReLU between them."""

    layers: tuple[tuple[np.ndarray, np.ndarray], ...]

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        for i, (weight, bias) in enumerate(self.layers):
            x = x @ weight + bias
            if i < len(self.layers) - 1:
                x = np.maximum(x, 0.0)
        x = x - x.max(axis=1, keepdims=True)
        exp = np.exp(x)
        return exp / exp.sum(axis=1, keepdims=True)

    @classmethod
    def from_sklearn(cls, mlp) -> MLPHead:
        """From a fitted ``sklearn.neural_network.MLPClassifier`` (ReLU, softmax over every class)."""
        if mlp.activation != "relu" or mlp.out_activation_ != "softmax":
            raise ValueError(f"need relu/softmax, got {mlp.activation}/{mlp.out_activation_}")
        return cls(tuple((np.asarray(w, np.float64), np.asarray(b, np.float64))
                         for w, b in zip(mlp.coefs_, mlp.intercepts_)))


def mix_probabilities(regression: np.ndarray, perceptrons: np.ndarray | None, weight: float) -> np.ndarray:
    """The regression's class probabilities mixed with the perceptrons' mean (``weight`` of it); as is without them."""
    return regression if perceptrons is None else (1.0 - weight) * regression + weight * perceptrons


def mix_encoder_head(proba: np.ndarray, head: np.ndarray | None, weight: float, floor: float = 0.0) -> np.ndarray:
    """``proba`` with the encoder head's probabilities mixed in (``weight`` of them) where ``head`` has a row and
    ``proba``'s crisis probability reaches ``floor``; other rows (NaN: a language the head does not read, or below the
    floor) are left as they are."""
    if head is None or weight <= 0:
        return proba
    rows = ~np.isnan(head).any(axis=1) & (1.0 - proba[:, 0] >= floor)
    mixed = proba.copy()
    mixed[rows] = (1.0 - weight) * proba[rows] + weight * head[rows]
    return mixed


def mix_heads(proba: np.ndarray, dense: np.ndarray, heads: tuple[MLPHead, ...], weight: float) -> np.ndarray:
    """The regression's class probabilities mixed with the perceptrons' mean (``weight`` of it); as is without heads."""
    return mix_probabilities(proba, np.mean([head.predict_proba(dense) for head in heads], axis=0) if heads else None,
                             weight)


class CrisisModel:
    """The shipped classifier. ``predict_proba(texts, langs)`` -> [n, len(labels)]; ``score(text)`` ->
    (probability of any crisis, most likely crisis category)."""

    def __init__(self, config: FeatureConfig, labels: tuple[str, ...], vocabulary: dict[str, int],
                 idf: np.ndarray, coef: np.ndarray, intercept: np.ndarray, threshold: float,
                 encoders: tuple[EncoderFeature, ...] = (), encoder_coef: dict[str, np.ndarray] | None = None,
                 info: dict | None = None, mlp: tuple[MLPHead, ...] = (), mlp_weight: float = 0.0,
                 encoder_head=None, encoder_head_langs: tuple[str, ...] = (), encoder_head_weight: float = 0.0,
                 encoder_head_threshold: float | None = None, encoder_head_floor: float = 0.0):
        encoder_coef = encoder_coef or {}
        if labels[0] != "none" or coef.shape != (len(labels), len(vocabulary)) or idf.shape != (len(vocabulary),):
            raise ValueError(f"labels={labels}, vocabulary={len(vocabulary)}, idf={idf.shape}, coef={coef.shape}")
        for encoder in encoders:
            if encoder_coef.get(encoder.name) is None or encoder_coef[encoder.name].shape[0] != len(labels):
                raise ValueError(f"missing or misshaped coefficients for encoder {encoder.name!r}")
        self.config = config
        self.labels = tuple(labels)
        self.vocabulary = vocabulary
        self.idf = idf
        self.coef = coef
        self.intercept = intercept
        self.threshold = float(threshold)
        self.encoders = tuple(encoders)
        self.encoder_coef = encoder_coef
        self.info = info or {}
        self.mlp = tuple(mlp)
        self.mlp_weight = float(mlp_weight) if self.mlp else 0.0
        if self.mlp and not encoders:
            raise ValueError("the perceptron heads read sentence embeddings: the model needs encoders")
        dims = sum(encoder_coef[e.name].shape[1] for e in self.encoders)
        for m, head in enumerate(self.mlp):
            if head.layers[0][0].shape[0] != dims or head.layers[-1][0].shape[1] != len(labels):
                raise ValueError(f"perceptron {m} does not map the encoders' {dims} dims to {len(labels)} labels")
        self.encoder_head = encoder_head  # an empath.encoder_classifier.EncoderClassifier over the same labels
        self.encoder_head_langs = tuple(encoder_head_langs) if encoder_head is not None else ()
        self.encoder_head_weight = float(encoder_head_weight) if encoder_head is not None else 0.0
        # the head runs only where the rest of the model gives at least this crisis probability (it costs a forward pass)
        self.encoder_head_floor = float(encoder_head_floor)
        # the crisis threshold for the head's languages (their probabilities are mixed, so their scale differs)
        self.encoder_head_threshold = float(encoder_head_threshold) \
            if encoder_head is not None and encoder_head_threshold is not None else None
        if encoder_head is not None and tuple(encoder_head.labels) != self.labels:
            raise ValueError(f"encoder head labels {encoder_head.labels} differ from {self.labels}")
        pairs = config.char_map
        self._char_map = str.maketrans(pairs[::2], pairs[1::2]) if pairs else None

    @classmethod
    def load(cls, directory: str | os.PathLike | None = None, trainer: str = "training.train_safety",
             encoder_head: bool = True) -> CrisisModel:
        """The model saved in ``directory`` (default: the shipped one); a missing file names ``trainer``. The encoder
        head, when the folder has one, is loaded too unless ``encoder_head`` is False."""
        from safetensors.numpy import load_file

        directory = Path(directory) if directory is not None else DEFAULT_MODEL_DIR
        try:
            config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
            words = json.loads((directory / "vocabulary.json").read_text(encoding="utf-8"))
            tensors = load_file(str(directory / "model.safetensors"))
        except FileNotFoundError as exc:
            raise DataFileError(f"{exc.filename}: safety model file not found "
                                f"(train it with `python -m {trainer}`)") from exc
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DataFileError(f"{directory}: unreadable safety model ({exc})") from exc
        try:
            encoders = tuple(EncoderFeature(e["name"], tuple(e["langs"])) for e in config.get("encoders", []))
            mlp_config = config.get("mlp") or {}
            mlp = tuple(MLPHead(tuple((tensors[f"mlp.{m}.{i}.weight"], tensors[f"mlp.{m}.{i}.bias"])
                                      for i in range(mlp_config["layers"])))
                        for m in range(mlp_config.get("members", 0)))
            head, mixing = _encoder_head(directory) if encoder_head else (None, {})
            return cls(FeatureConfig.from_dict(config["features"]), tuple(config["labels"]),
                       {word: i for i, word in enumerate(words)}, tensors["idf"], tensors["coef"],
                       tensors["intercept"], config["threshold"], encoders,
                       {e.name: tensors.get(f"coef.{e.name}") for e in encoders}, config,
                       mlp, mlp_config.get("weight", 0.0), head, tuple(mixing.get("langs", ())),
                       mixing.get("weight", 0.0), mixing.get("threshold"), mixing.get("floor", 0.0))
        except (KeyError, ValueError) as exc:
            raise DataFileError(f"{directory}: inconsistent safety model ({exc})") from exc

    @property
    def language_thresholds(self) -> dict[str, float]:
        """Crisis thresholds that differ from ``threshold``: the encoder head's, for its languages."""
        if self.encoder_head_threshold is None or self.encoder_head_weight <= 0:
            return {}
        return {lang: self.encoder_head_threshold for lang in self.encoder_head_langs}

    @property
    def sentence_threshold(self) -> float | None:
        """Crisis threshold for one sentence of a long message (None: long messages are only read whole)."""
        value = self.info.get("sentence_threshold")
        return float(value) if value is not None else None

    def features(self, text: str) -> list[str]:
        return ngram_features(text, self.config, self._char_map)

    def _tfidf(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        counts: dict[int, int] = {}
        for feature in self.features(text):
            column = self.vocabulary.get(feature)
            if column is not None:
                counts[column] = counts.get(column, 0) + 1
        columns = np.fromiter(counts, dtype=np.int64, count=len(counts))
        values = np.array([1.0 + math.log(c) for c in counts.values()]) * self.idf[columns]
        norm = np.linalg.norm(values)
        return columns, values / norm if norm else values

    def _embeddings(self, texts: list[str], langs: list[str | None] | None) -> list[np.ndarray]:
        langs = message_languages(texts, langs)
        return [embedding_block(encoder, texts, langs) for encoder in self.encoders]

    def _linear_scores(self, texts: list[str], blocks: list[np.ndarray]) -> np.ndarray:
        scores = np.zeros((len(texts), len(self.labels)))
        for row, text in enumerate(texts):
            columns, values = self._tfidf(text)
            scores[row] = self.coef[:, columns] @ values + self.intercept
        for encoder, block in zip(self.encoders, blocks):
            scores += block @ self.encoder_coef[encoder.name].T
        return scores

    def decision_function(self, texts: list[str], langs: list[str | None] | None = None) -> np.ndarray:
        """The logistic regression's class scores (the perceptrons are not included)."""
        return self._linear_scores(texts, self._embeddings(texts, langs))

    def head_proba(self, texts: list[str], langs: list[str | None] | None = None, perceptrons: bool = True
                   ) -> tuple[np.ndarray, np.ndarray | None]:
        """Before mixing: the regression's class probabilities and the perceptrons' mean (None without perceptrons,
        or when ``perceptrons`` is False)."""
        blocks = self._embeddings(texts, langs)
        scores = self._linear_scores(texts, blocks)
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        regression = exp / exp.sum(axis=1, keepdims=True)
        if not self.mlp or not perceptrons:
            return regression, None
        dense = np.hstack(blocks)
        return regression, np.mean([head.predict_proba(dense) for head in self.mlp], axis=0)

    def encoder_head_proba(self, texts: list[str], langs: list[str | None] | None = None,
                           rows: list[int] | None = None) -> np.ndarray | None:
        """The encoder head's class probabilities, rows of NaN for texts in other languages (and for those not in
        ``rows``, when given); None without a head."""
        if self.encoder_head is None:
            return None
        langs = message_languages(texts, langs)
        out = np.full((len(texts), len(self.labels)), np.nan)
        wanted = set(range(len(texts)) if rows is None else rows)
        rows = [i for i, lang in enumerate(langs) if lang in self.encoder_head_langs and i in wanted]
        if rows:
            out[rows] = self.encoder_head.predict_proba([texts[i] for i in rows])
        return out

    def predict_proba(self, texts: list[str], langs: list[str | None] | None = None) -> np.ndarray:
        # perceptrons with no share (kept for choosing an operating point) are not run; nor is a head with no share,
        # nor the head where the rest of the model is below its floor
        langs = message_languages(texts, langs)  # detected once for both heads
        regression, perceptrons = self.head_proba(texts, langs, perceptrons=self.mlp_weight > 0)
        proba = mix_probabilities(regression, perceptrons, self.mlp_weight)
        if self.encoder_head_weight <= 0:
            return proba
        rows = [int(i) for i in np.flatnonzero(1.0 - proba[:, 0] >= self.encoder_head_floor)]
        return mix_encoder_head(proba, self.encoder_head_proba(texts, langs, rows), self.encoder_head_weight,
                                self.encoder_head_floor)

    def score(self, text: str, lang: str | None = None) -> tuple[float, str]:
        """Probability that ``text`` is a crisis message (1 - P(none)) and the likeliest category."""
        proba = self.predict_proba([text], [lang])[0]
        best = 1 + int(np.argmax(proba[1:]))
        return float(1.0 - proba[0]), self.labels[best]


@lru_cache(maxsize=4)
def _load_encoder_classifier(path: str):
    from .encoder_classifier import EncoderClassifier

    # read-only at inference: one copy per folder, shared by every checker. On the CPU everywhere: one short forward
    # pass per message, the numbers measured here, and no GPU needed outside the generation call (ZeroGPU Spaces)
    return EncoderClassifier.load(path, device="cpu")


def _encoder_head(directory: Path) -> tuple[object | None, dict]:
    """(EncoderClassifier, mixing) of ``directory/encoder_head`` or (None, {}) when the model has none."""
    folder = directory / ENCODER_HEAD_DIR
    if not (folder / ENCODER_HEAD_MIXING).is_file():
        return None, {}
    try:
        mixing = json.loads((folder / ENCODER_HEAD_MIXING).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataFileError(f"{folder / ENCODER_HEAD_MIXING}: unreadable ({exc})") from exc
    return _load_encoder_classifier(str(folder.resolve())), mixing


def save_encoder_head(directory: str | os.PathLike, head, langs: tuple[str, ...], weight: float,
                      threshold: float | None = None, floor: float = 0.0, info: dict | None = None) -> Path:
    """Write ``head`` (an EncoderClassifier) into the model folder ``directory`` with its languages, its share, the
    crisis threshold for those languages (None: the model's) and the floor under which it is not run."""
    folder = Path(directory) / ENCODER_HEAD_DIR
    head.save(folder)
    mixing = {"langs": list(langs), "weight": float(weight), "threshold": threshold, "floor": float(floor),
              **(info or {})}
    (folder / ENCODER_HEAD_MIXING).write_text(json.dumps(mixing, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    _load_encoder_classifier.cache_clear()
    return folder


def save_model(directory: str | os.PathLike, config: FeatureConfig, labels: tuple[str, ...],
               vocabulary: dict[str, int], idf: np.ndarray, coef: np.ndarray, intercept: np.ndarray,
               threshold: float, encoders: tuple[EncoderFeature, ...] = (), info: dict | None = None,
               mlp: tuple[MLPHead, ...] = (), mlp_weight: float = 0.0) -> Path:
    """Write the three files :meth:`CrisisModel.load` reads (no pickle anywhere). ``coef`` holds the
    n-gram columns first, then one block per encoder, in order (the layout of the training matrix);
    ``mlp`` the perceptrons over the encoders' embeddings, mixed in with ``mlp_weight``."""
    from safetensors.numpy import save_file

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    words = sorted(vocabulary, key=vocabulary.__getitem__)
    coef = np.asarray(coef, dtype=np.float64)
    tensors = {"idf": np.asarray(idf, dtype=np.float64), "coef": coef[:, :len(words)],
               "intercept": np.asarray(intercept, dtype=np.float64)}
    start = len(words)
    for encoder in encoders:
        from .encoders import get_encoder

        dim = get_encoder(encoder.name).dim
        tensors[f"coef.{encoder.name}"] = coef[:, start:start + dim]
        start += dim
    if start != coef.shape[1]:
        raise ValueError(f"coef has {coef.shape[1]} columns, features and encoders account for {start}")
    if len({len(head.layers) for head in mlp}) > 1:
        raise ValueError("every perceptron of the ensemble needs the same number of layers")
    for m, head in enumerate(mlp):
        if head.layers[0][0].shape[0] != start - len(words) or head.layers[-1][0].shape[1] != len(labels):
            raise ValueError(f"perceptron {m} does not map the encoders' {start - len(words)} dims to {len(labels)} labels")
        for i, (weight, bias) in enumerate(head.layers):
            tensors[f"mlp.{m}.{i}.weight"], tensors[f"mlp.{m}.{i}.bias"] = weight, bias
    save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, str(directory / "model.safetensors"))
    (directory / "vocabulary.json").write_text(json.dumps(words, ensure_ascii=False), encoding="utf-8")
    config_data = {"labels": list(labels), "features": config.to_dict(),
                   "encoders": [e.to_dict() for e in encoders], "threshold": float(threshold), **(info or {})}
    if mlp:
        config_data["mlp"] = {"members": len(mlp), "layers": len(mlp[0].layers), "weight": float(mlp_weight),
                              "hidden": [w.shape[1] for w, _ in mlp[0].layers[:-1]]}
    (directory / "config.json").write_text(json.dumps(config_data, ensure_ascii=False, indent=1) + "\n",
                                           encoding="utf-8")
    return directory
