"""Measure an emotion scorer on labelled seeker situations, or (re)train the default scorer's head.

Evaluation: the scorer's strongest dimension vs. ESConv's ``emotion_type`` mapped to Plutchik
(``empath.emotion.ESCONV_TO_PLUTCHIK``), as accuracy and a confusion matrix next to the
majority-class baseline (always predicting the most frequent mapped label of the evaluated file)::

    python -m training.evaluate_emotion --data ../shared/data/esconv/valid.jsonl --format esconv [--json]
    python -m training.evaluate_emotion --format experiences [--lang zh]   # vs authored experience vectors

With ``--json`` the last printed line is one JSON object (n, accuracy, majority_baseline, ...).

Training (what ships as ``empath/data/emotion/use-multilingual.safetensors``): a multinomial logistic
regression over USE embeddings, fitted on the ESConv *train* split only (fear / sadness / anger / disgust
situations) plus the anchor sentences of all eight dimensions (``empath/data/emotion/anchors.yaml``,
English and Chinese; each dimension's anchors weigh as much as an average ESConv class) and, by default,
the authored emotion vectors of the repository's ``experiences/`` as soft targets (reported
leave-one-persona-out). C is chosen by 5-fold cross-validation on situations + anchors::

    python -m training.evaluate_emotion --train-head --data ../shared/data/esconv/train.jsonl
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from empath._data import shared_data_dir
from empath.emotion import (ANCHORS_FILE, DEFAULT_HEAD_FILE, EMOTION_DIMS, ESCONV_TO_PLUTCHIK, get_emotion_scorer,
                            load_anchors, save_head)

PROTOTYPE_TEMPERATURE = 0.05  # cosine / 0.05: a 0.05 cosine gap is one logit


def labelled_situations(path: str | Path, format: str = "esconv") -> tuple[list[str], list[str], Counter]:
    """(texts, Plutchik labels, skipped-reason counts) from a dialogue file with emotion labels."""
    from empath.dialogue import read_dialogues

    texts, labels, skipped = [], [], Counter()
    for dialogue in read_dialogues(path, format=format):
        emotion = (dialogue.background.emotion or "").strip().lower()
        text = dialogue.background.text()
        if emotion not in ESCONV_TO_PLUTCHIK:
            skipped[f"unmapped emotion {emotion or '(none)'}"] += 1
        elif not text:
            skipped["empty situation"] += 1
        else:
            texts.append(text)
            labels.append(ESCONV_TO_PLUTCHIK[emotion])
    return texts, labels, skipped


def _score_all(scorer, texts: list[str], batch_size: int = 64) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    vectors = np.concatenate([scorer.score_batch(texts[i:i + batch_size]) for i in range(0, len(texts), batch_size)])
    return vectors, (time.perf_counter() - start) / max(len(texts), 1)


def evaluate(scorer_name: str, path: str | Path, format: str, limit: int | None = None) -> dict:
    """Strongest dimension vs mapped emotion labels (accuracy, confusion, majority baseline)."""
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

    texts, labels, skipped = labelled_situations(path, format)
    if limit:
        texts, labels = texts[:limit], labels[:limit]
    if not texts:
        raise SystemExit(f"{path}: no situations with a mappable emotion label")
    vectors, seconds = _score_all(get_emotion_scorer(scorer_name), texts)
    predicted = [EMOTION_DIMS[i] for i in vectors.argmax(axis=1)]
    majority_class, majority_count = Counter(labels).most_common(1)[0]
    observed = [d for d in EMOTION_DIMS if d in set(labels)]
    matrix = confusion_matrix(labels, predicted, labels=list(EMOTION_DIMS))
    return {
        "scorer": scorer_name, "data": str(path), "n": len(texts), "skipped": dict(skipped),
        "accuracy": round(float(accuracy_score(labels, predicted)), 4),
        "majority_baseline": round(majority_count / len(labels), 4), "majority_class": majority_class,
        "macro_f1": round(float(f1_score(labels, predicted, labels=observed, average="macro", zero_division=0)), 4),
        "confusion_labels": list(EMOTION_DIMS),
        "confusion": {d: matrix[i].tolist() for i, d in enumerate(EMOTION_DIMS) if d in observed},
        "seconds_per_text": round(seconds, 5),
    }


def evaluate_experiences(scorer_name: str, path: str | Path | None, lang: str = "en") -> dict:
    """Scorer vectors vs the authored vectors of an experience bank (``--format experiences``).
    The majority baseline always predicts the most frequent authored strongest dimension."""
    from empath.experiences import ExperienceBank

    experiences = [e for e in ExperienceBank.load(path) if e.text.get(lang, "").strip()]
    if not experiences:
        raise SystemExit(f"{path}: no experiences with {lang} text")
    vectors, seconds = _score_all(get_emotion_scorer(scorer_name), [e.text[lang] for e in experiences])
    authored = np.stack([e.emotion for e in experiences])
    majority = Counter(authored.argmax(axis=1).tolist()).most_common(1)[0][1] / len(experiences)
    return {"scorer": scorer_name, "data": str(path or "experiences/"), "lang": lang, "n": len(experiences),
            **_agreement(vectors, authored), "majority_baseline": round(majority, 4),
            "seconds_per_text": round(seconds, 5)}


def print_report(result: dict) -> None:
    print(f"scorer {result['scorer']} on {result['data']}: n={result['n']}  skipped={result['skipped']}")
    print(f"accuracy (strongest dimension == mapped label): {result['accuracy']:.4f}")
    print(f"majority baseline (always {result['majority_class']}):  {result['majority_baseline']:.4f}")
    print(f"macro F1 over observed labels: {result['macro_f1']:.4f}")
    print("confusion (rows: true, columns: predicted)")
    width = max(len(d) for d in EMOTION_DIMS) + 1
    print(" " * width + "".join(f"{d[:5]:>7}" for d in result["confusion_labels"]))
    for label, row in result["confusion"].items():
        print(f"{label:<{width}}" + "".join(f"{v:>7}" for v in row))


# ---------------------------------------------------------------------------------------------
# Training the default head
# ---------------------------------------------------------------------------------------------
def _anchor_arrays(encoder, anchors) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    texts, labels, langs = [], [], []
    for i, dim in enumerate(EMOTION_DIMS):
        for lang, sentences in anchors[dim].items():
            texts += sentences
            labels += [i] * len(sentences)
            langs += [lang] * len(sentences)
    return encoder.encode(texts), np.array(labels), np.array(langs)


def _experience_arrays(encoder, experiences):
    """(embeddings, soft targets, persona ids, authored vectors) for every non-empty experience text,
    both languages; the soft target is the authored vector shifted to 0 ("absent") and normalised."""
    x, targets, groups = [], [], []
    for lang in ("en", "zh"):
        chosen = [e for e in experiences if e.text.get(lang, "").strip()]
        if chosen:
            x.append(encoder.encode([e.text[lang] for e in chosen]))
            targets += [e.emotion for e in chosen]
            groups += [e.role for e in chosen]
    if not x:
        return np.zeros((0, encoder.dim), np.float32), np.zeros((0, 8)), np.array([]), np.zeros((0, 8))
    authored = np.stack(targets).astype(np.float64)
    shifted = authored - 1.0
    sums = shifted.sum(axis=1, keepdims=True)
    targets = np.divide(shifted, sums, out=np.full_like(shifted, 1 / 8), where=sums > 0)
    return np.concatenate(x), targets, np.array(groups), authored


def _folder_digest(path: str | Path) -> str:
    path = Path(path)
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.name.encode() + file.read_bytes())
    return digest.hexdigest()[:16]


def _fit(x, y, weights, soft_x, soft_targets, C):
    """Multinomial logistic regression; a soft target row becomes 8 rows weighted by its probabilities."""
    from sklearn.linear_model import LogisticRegression

    n_dims = len(EMOTION_DIMS)
    x_all = np.concatenate([x, np.repeat(soft_x, n_dims, axis=0)])
    y_all = np.concatenate([y, np.tile(np.arange(n_dims), len(soft_x))])
    w_all = np.concatenate([weights, soft_targets.reshape(-1)])
    keep = w_all > 0
    return LogisticRegression(C=C, max_iter=5000).fit(x_all[keep], y_all[keep], sample_weight=w_all[keep])


def _agreement(predicted: np.ndarray, authored: np.ndarray) -> dict:
    """Scorer vectors vs authored vectors: same strongest dimension, inside the authored top two, cosine."""
    top2 = np.argsort(-authored, axis=1)[:, :2]
    best = predicted.argmax(axis=1)
    cosine = (predicted * authored).sum(1) / np.linalg.norm(predicted, axis=1) / np.linalg.norm(authored, axis=1)
    return {"top1_agreement": round(float((best == authored.argmax(axis=1)).mean()), 4),
            "in_authored_top2": round(float((top2 == best[:, None]).any(axis=1).mean()), 4),
            "mean_cosine": round(float(cosine.mean()), 4)}


def train_head(data: str | Path, format: str = "esconv", encoder_name: str = "use-multilingual",
               out: str | Path = DEFAULT_HEAD_FILE, anchors_file: str | Path = ANCHORS_FILE,
               experiences: str | Path | None = None, Cs=(0.1, 0.3, 1.0, 3.0, 10.0)) -> dict:
    """Fit and save the head. ``experiences``: a bank whose authored vectors join as soft targets
    (evaluated leave-one-persona-out); ``None`` leaves them out."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV

    from empath.emotion import probabilities_to_scores
    from empath.encoders import get_encoder
    from empath.experiences import ExperienceBank

    encoder = get_encoder(encoder_name)
    texts, labels, _ = labelled_situations(data, format)
    x_data = encoder.encode(texts)
    y_data = np.array([EMOTION_DIMS.index(label) for label in labels])
    x_anchor, y_anchor, anchor_lang = _anchor_arrays(encoder, load_anchors(anchors_file))
    x, y = np.concatenate([x_data, x_anchor]), np.concatenate([y_data, y_anchor])
    # Anchor sentences of one dimension together weigh as much as an average dataset class, so the
    # four dimensions ESConv never observes are not drowned out by its ~900 situations.
    observed = len(set(y_data.tolist()))
    anchor_weight = (len(y_data) / observed) / (len(y_anchor) / len(EMOTION_DIMS))
    weights = np.concatenate([np.ones(len(y_data)), np.full(len(y_anchor), anchor_weight)])

    # C by 5-fold cross-validation on situations + anchors (hard labels)
    search = GridSearchCV(LogisticRegression(max_iter=5000), {"C": list(Cs)}, cv=5, scoring="accuracy")
    search.fit(x, y, sample_weight=weights)
    best_c, cv_accuracy = float(search.best_params_["C"]), float(search.best_score_)

    info = {"encoder": encoder_name, "trained_on": Path(data).name,
            "trained_on_sha256": hashlib.sha256(Path(data).read_bytes()).hexdigest()[:16],
            "n_situations": len(texts), "n_anchors": len(y_anchor), "anchor_weight": round(anchor_weight, 3),
            "C": best_c, "cv_accuracy": round(cv_accuracy, 4)}

    x_exp, t_exp, g_exp, authored = _experience_arrays(encoder, [])
    if experiences is not None:
        x_exp, t_exp, g_exp, authored = _experience_arrays(encoder, list(ExperienceBank.load(experiences)))
        info["experiences_sha256"] = _folder_digest(experiences)
        info["n_experience_texts"] = len(x_exp)
        # Leave-one-persona-out: how well the head reproduces authored vectors of an unseen persona.
        predicted = np.zeros_like(t_exp)
        for role in sorted(set(g_exp)):
            held = g_exp == role
            model = _fit(x, y, weights, x_exp[~held], t_exp[~held], best_c)
            predicted[held] = probabilities_to_scores(model.predict_proba(x_exp[held]))
        info.update({f"experience_loro_{k}": v for k, v in _agreement(predicted, authored).items()})

    # Cross-lingual check for Chinese input: fit without Chinese anchors, score the Chinese anchors.
    english = anchor_lang != "zh"
    probe = _fit(np.concatenate([x_data, x_anchor[english]]), np.concatenate([y_data, y_anchor[english]]),
                 np.concatenate([np.ones(len(y_data)), np.full(english.sum(), 2 * anchor_weight)]),
                 x_exp[:0], t_exp[:0], best_c)
    zh_correct = probe.predict(x_anchor[~english]) == y_anchor[~english]
    info["zh_anchor_transfer_accuracy"] = round(float(zh_correct.mean()), 4)

    model = _fit(x, y, weights, x_exp, t_exp, best_c)
    assert list(model.classes_) == list(range(len(EMOTION_DIMS))), "every dimension needs training examples"
    prototypes = np.stack([x_anchor[y_anchor == i].mean(axis=0) for i in range(len(EMOTION_DIMS))])
    prototypes /= np.linalg.norm(prototypes, axis=1, keepdims=True)
    info["prototype_temperature"] = PROTOTYPE_TEMPERATURE
    save_head(out, model.coef_, model.intercept_, prototypes, info)
    return {**info, "out": str(out)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", help="dialogue file with emotion labels (default: the shared ESConv "
                                       "valid split; train split with --train-head)")
    parser.add_argument("--format", default="esconv", help="dialogue format for empath.dialogue.read_dialogues, "
                                                           "or 'experiences' (agreement with authored vectors)")
    parser.add_argument("--scorer", default="default", help="emotion scorer name (see get_emotion_scorer)")
    parser.add_argument("--limit", type=int, help="evaluate only the first N situations")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object (last line)")
    parser.add_argument("--train-head", action="store_true", help="train the default head instead of evaluating")
    parser.add_argument("--encoder", default="use-multilingual", help="encoder for --train-head")
    parser.add_argument("--out", default=str(DEFAULT_HEAD_FILE), help="where --train-head writes the head")
    parser.add_argument("--experiences", default="auto",
                        help="--train-head: experience bank whose authored vectors join the training as soft "
                             "targets ('auto' = the repository's experiences/ if it has files, 'none' = off)")
    parser.add_argument("--lang", default="en", choices=["en", "zh"], help="--format experiences: which text")
    args = parser.parse_args(argv)

    if args.format == "experiences" and not args.train_head:
        result = evaluate_experiences(args.scorer, args.data, args.lang)
        print(json.dumps(result) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))
        return 0
    split = "train" if args.train_head else "valid"
    data = args.data or shared_data_dir() / "esconv" / f"{split}.jsonl"
    if not Path(data).exists():
        parser.error(f"{data}: not found (pass --data or set EMPATH_SHARED_DATA)")
    if args.train_head:
        experiences = None if args.experiences == "none" else args.experiences
        if experiences == "auto":
            from empath.experiences import experiences_dir

            folder = experiences_dir(None)
            experiences = folder if any(folder.glob("*.jsonl")) else None
        result = train_head(data, args.format, args.encoder, args.out, experiences=experiences)
        if not args.json:
            for key, value in result.items():
                print(f"{key}: {value}")
    else:
        result = evaluate(args.scorer, data, args.format, args.limit)
        if not args.json:
            print_report(result)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
