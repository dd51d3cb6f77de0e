"""K-fold cross-validation of the frozen-encoder role baseline on ESConv (train + valid pooled).

    python -m training.crossvalidate_roles [--esconv DIR] [--encoder all-minilm-l6-v2] [--folds 5] [--c 8] [--json]

One background per dialogue (the situation, Eq. 9 text), gold role from problem_type -> topic -> persona, a
sentence encoder's vectors and scikit-learn's logistic regression, stratified folds (seed 0). Prints the mean and
standard deviation of accuracy and weighted F1 over the folds: a steadier estimate of the baseline than the
195 dialogues of the valid split alone. With ``--json`` the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from empath._data import shared_data_dir


def crossvalidate(texts: list[str], labels: list[str], encoder, folds: int = 5, c: float = 8.0, seed: int = 0) -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    from training.evaluate_classifiers import classification_metrics

    x, y = encoder.encode(texts), np.asarray(labels)
    scores = []
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y):
        head = LogisticRegression(C=c, max_iter=3000).fit(x[train], y[train])
        scores.append(classification_metrics(list(y[test]), list(head.predict(x[test]))))
    out = {"n": len(labels), "folds": folds, "c": c}
    for key in ("accuracy", "weighted_f1"):
        values = [s[key] for s in scores]
        out[key] = {"mean": float(np.mean(values)), "std": float(np.std(values)), "per_fold": values}
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--esconv", default=str(shared_data_dir() / "esconv"), help="folder with train.jsonl/valid.jsonl")
    p.add_argument("--encoder", default="all-minilm-l6-v2", help="empath.encoders name")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--c", type=float, default=8.0, help="inverse L2 strength of the logistic regression")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)

    from pathlib import Path

    from empath.classifiers import role_text
    from empath.dialogue import read_esconv
    from empath.encoders import get_encoder

    dialogues = [d for split in ("train", "valid") for d in read_esconv(Path(args.esconv) / f"{split}.jsonl")]
    cases = [(role_text(d.background), d.background.role) for d in dialogues if d.background.role and role_text(d.background)]
    result = crossvalidate([t for t, _ in cases], [r for _, r in cases], get_encoder(args.encoder), args.folds, args.c)
    result["encoder"] = args.encoder
    print(f"{args.encoder}, {args.folds}-fold, n={result['n']}: accuracy {result['accuracy']['mean']:.3f} ± "
          f"{result['accuracy']['std']:.3f}, weighted F1 {result['weighted_f1']['mean']:.3f} ± {result['weighted_f1']['std']:.3f}")
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
