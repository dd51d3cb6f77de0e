"""Fitting the classifiers' heads (used by ``training/train_classifiers.py``; inference lives in
:mod:`empath.classifiers`).

:func:`train_head` fits the frozen-encoder backend's MLP head in torch (served in numpy by
:class:`empath.classifiers.MLPHead`); :func:`finetune_sequence_classifier` is the paper's recipe for the
``sequence-classification`` backend (full fine-tuning with ``transformers.Trainer``, GPU users).
"""

from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np

from empath.classifiers import MLPHead, SequenceClassifierScorer, UnknownLabelError, tokenize_inputs


def label_indices(ys: Sequence[str], label_names: Sequence[str], where: str) -> np.ndarray:
    """Class indices of ``ys``; an unknown label raises :class:`UnknownLabelError` listing the valid ones."""
    index = {name: i for i, name in enumerate(label_names)}
    out = np.empty(len(ys), np.int64)
    for i, y in enumerate(ys):
        if y not in index:
            raise UnknownLabelError(f"{where} example {i}: unknown label {y!r}; valid labels: {', '.join(label_names)}")
        out[i] = index[y]
    return out


def _mlp(dims: Sequence[int], dropout: float, input_dropout: float):
    """Dropout -> [Linear -> GELU(tanh) -> Dropout]* -> Linear: the torch twin of :class:`MLPHead`."""
    import torch

    layers: list[torch.nn.Module] = [torch.nn.Dropout(input_dropout)]
    for i in range(len(dims) - 1):
        layers.append(torch.nn.Linear(dims[i], dims[i + 1]))
        if i < len(dims) - 2:
            layers += [torch.nn.GELU(approximate="tanh"), torch.nn.Dropout(dropout)]
    return torch.nn.Sequential(*layers)


def _head_params(model, mean: np.ndarray, scale: np.ndarray) -> dict[str, np.ndarray]:
    """The torch model's weights in :class:`MLPHead`'s layout (mean, scale, w0, b0, w1, b1, ...)."""
    import torch

    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    params = {"mean": mean, "scale": scale}
    for i, lin in enumerate(linears):
        params[f"w{i}"] = lin.weight.detach().numpy().copy()
        params[f"b{i}"] = lin.bias.detach().numpy().copy()
    return params


def _class_weight(y: np.ndarray, n_classes: int, class_weight: str | None):
    """``"balanced"``: inverse class frequency (0 for an absent class); None: unweighted."""
    import torch

    if class_weight != "balanced":
        return None
    counts = np.bincount(y, minlength=n_classes).astype(np.float32)
    return torch.from_numpy(np.where(counts > 0, len(y) / (n_classes * np.maximum(counts, 1)), 0.0).astype(np.float32))


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
    x = np.asarray(features, np.float32)
    if x.ndim != 2 or len(x) != len(labels) or len(x) == 0:
        raise ValueError(f"features must be [n, d] with one label per row (got {list(x.shape)} and {len(labels)} labels)")
    y = label_indices(labels, label_names, "training")
    # standardize=False keeps unit-norm embeddings small next to 0/1 features: a built-in prior that
    # the few dialogue-state features matter more per dimension than any single embedding dimension
    mean = x.mean(0) if standardize else np.zeros(x.shape[1], np.float32)
    scale = x.std(0) + 1e-3 if standardize else np.ones(x.shape[1], np.float32)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = _mlp([x.shape[1], *hidden, len(label_names)], dropout, input_dropout)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    train = (torch.from_numpy((x - mean) / scale), torch.from_numpy(y))
    weight = _class_weight(y, len(label_names), class_weight)
    if valid is not None:
        valid = (torch.from_numpy((np.asarray(valid[0], np.float32) - mean) / scale),
                 label_indices(valid[1], label_names, "validation"))

    def step(xb, yb) -> float:
        loss = torch.nn.functional.cross_entropy(model(xb), yb, weight=weight, label_smoothing=label_smoothing)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return float(loss.detach())

    best, history = _fit(model, step, train, valid, gen, lambda: _head_params(model, mean, scale), epochs=epochs,
                         batch_size=batch_size, patience=patience, progress=progress, desc=desc)
    return MLPHead(label_names, best), history


def _fit(model, step, train, valid, gen, snapshot, *, epochs: int, batch_size: int, patience: int,
         progress: bool, desc: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The epoch loop: shuffled mini-batches, then (with ``valid``) early stopping on valid accuracy."""
    import torch
    from tqdm.auto import trange

    xt, yt = train
    history: dict[str, Any] = {"train_loss": [], "valid_accuracy": [], "best_epoch": None}
    best, best_acc, stale = snapshot(), -1.0, 0
    bar = trange(epochs, desc=desc, disable=not progress)
    for epoch in bar:
        model.train()
        perm = torch.randperm(len(xt), generator=gen)
        total = 0.0
        for i in range(0, len(xt), batch_size):
            b = perm[i:i + batch_size]
            total += step(xt[b], yt[b]) * len(b)
        history["train_loss"].append(total / len(xt))
        if valid is None:
            best, history["best_epoch"] = snapshot(), epoch
            continue
        model.eval()
        with torch.no_grad():
            acc = float((model(valid[0]).argmax(1).numpy() == valid[1]).mean())
        history["valid_accuracy"].append(acc)
        bar.set_postfix(valid_acc=f"{acc:.3f}")
        if acc > best_acc:
            best, best_acc, stale, history["best_epoch"] = snapshot(), acc, 0, epoch
        else:
            stale += 1
            if stale >= patience:
                break
    return best, history


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
    from transformers import DataCollatorWithPadding, Trainer, TrainingArguments

    label_names = list(label_names)

    class _Texts(torch.utils.data.Dataset):
        def __init__(self, xs, ys):
            self.enc = tokenize_inputs(tokenizer, list(xs), max_length)
            self.ys = ys

        def __len__(self):
            return len(self.ys)

        def __getitem__(self, i):
            return {**{k: v[i] for k, v in self.enc.items()}, "labels": self.ys[i]}

    model.config.id2label = dict(enumerate(label_names))
    model.config.label2id = {n: i for i, n in enumerate(label_names)}
    train_set = _Texts(texts, label_indices(labels, label_names, "training").tolist())
    eval_set = _Texts(valid[0], label_indices(valid[1], label_names, "validation").tolist()) if valid else None

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
    trainer = Trainer(model=model, args=args, train_dataset=train_set, eval_dataset=eval_set,
                      data_collator=DataCollatorWithPadding(tokenizer), compute_metrics=accuracy if eval_set else None)
    result = trainer.train()
    metrics = dict(result.metrics)
    if eval_set is not None:
        metrics.update(trainer.evaluate())
    return SequenceClassifierScorer(task, trainer.model, tokenizer, max_length, max_turns), metrics
