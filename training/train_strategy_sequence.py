"""Train the ``sequence-gru`` strategy predictor (:mod:`empath.strategy_sequence`) on ESConv train.

Only the training dialogues are used: they are cut into ``--folds`` conversation-level folds; one member is
trained per fold (early stopping on its held-out fold's accuracy) and the members are averaged. The
out-of-fold predictions (every training dialogue scored by the member that did not see it) choose the
rare-class logit bias ``-tau * log(prior)`` (the tau with the best accuracy + macro-F1) and give an honest
estimate; ESConv ``valid`` is never looked at here (``training/evaluate_classifiers.py`` scores it).

The strategy section of ``--output``'s ``config.json`` is replaced (the role section stays as it is)::

    python -m training.train_strategy_sequence --output empath/data/classifiers
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from empath._data import shared_data_dir
from empath.classifiers import StrategyPredictor, role_text, strategy_features
from empath.dialogue import SUPPORTER, read_esconv, read_jsonl
from empath.encoders import MULTILINGUAL_ENCODER
from empath.strategies import STRATEGY_NAMES
from empath.strategy_sequence import SequenceEnsemble, SequenceScorer, turn_extras
from training.train_classifiers import embedding_cache

TAUS = tuple(round(0.05 * i, 2) for i in range(21))  # 0 .. 1
S = len(STRATEGY_NAMES)


# ---------------------------------------------------------------------------------------------
# Data: one record per dialogue
# ---------------------------------------------------------------------------------------------
def dialogue_records(dialogues, encoder, progress: bool = False) -> list[dict]:
    """Per dialogue: turn inputs [T, E + TURN_EXTRA], background embedding [E], gold strategy per turn (-1 for
    seeker / unlabelled turns) and the flat features of every supporter target [T, F] (zeros elsewhere)."""
    texts = [t.text for d in dialogues for t in d.turns] + [role_text(d.background) for d in dialogues]
    encoder.encode(texts, progress=progress)  # fill the memo in large batches
    records = []
    for d in dialogues:
        turns = list(d.turns)
        emb = encoder.encode([t.text for t in turns])
        bg_text = role_text(d.background)
        bg = encoder.encode([bg_text])[0] if bg_text else np.zeros(encoder.dim, np.float32)
        y = np.array([STRATEGY_NAMES.index(t.strategy) if t.speaker == SUPPORTER and t.strategy else -1
                      for t in turns], np.int64)
        targets = np.flatnonzero(y >= 0)
        flat_rows = strategy_features([(d.background, turns[:i]) for i in targets], encoder) if len(targets) else None
        flat = np.zeros((len(turns), flat_rows.shape[1] if flat_rows is not None else 0), np.float32)
        if flat_rows is not None:
            flat[targets] = flat_rows
        records.append({"x": np.concatenate([emb, turn_extras(turns)], 1), "bg": bg, "y": y, "flat": flat,
                        **look_ahead_targets(turns, emb, y)})
    return records


def look_ahead_targets(turns, emb: np.ndarray, y: np.ndarray) -> dict:
    """Training-only targets of what follows each supporter turn (the look-ahead tasks): the seeker's next
    message embedding (``next_emb``, ``has_next`` 0/1) and the next supporter turn's strategy (-1: none)."""
    next_emb = np.zeros_like(emb)
    has_next = np.zeros(len(turns), np.float32)
    next_y = np.full(len(turns), -1, np.int64)
    following_seeker, following_y = None, -1
    for i in range(len(turns) - 1, -1, -1):
        if y[i] >= 0:
            if following_seeker is not None:
                next_emb[i], has_next[i] = emb[following_seeker], 1.0
            next_y[i] = following_y
            following_y = int(y[i])
        elif turns[i].speaker != SUPPORTER:
            following_seeker = i
    return {"next_emb": next_emb, "has_next": has_next, "next_y": next_y}


def batch(records, idx, look_ahead: bool = False):
    """Padded tensors (x, bg, flat, y) for the dialogues ``idx``; with ``look_ahead`` also (next_emb, has_next,
    next_y)."""
    import torch

    T = max(len(records[i]["y"]) for i in idx)

    def padded(key: str, fill, dtype) -> np.ndarray:
        """[len(idx), T, ...] of each record's ``key``, padded with ``fill`` after its last turn."""
        out = np.full((len(idx), T, *records[idx[0]][key].shape[1:]), fill, dtype)
        for b, i in enumerate(idx):
            out[b, :len(records[i][key])] = records[i][key]
        return out

    arrays = [padded("x", 0, np.float32), np.stack([records[i]["bg"] for i in idx]).astype(np.float32),
              padded("flat", 0, np.float32), padded("y", -1, np.int64)]
    if look_ahead:
        arrays += [padded("next_emb", 0, np.float32), padded("has_next", 0, np.float32), padded("next_y", -1, np.int64)]
    return [torch.from_numpy(a) for a in arrays]


# ---------------------------------------------------------------------------------------------
# Model (torch for training; exported to numpy SequenceEnsemble)
# ---------------------------------------------------------------------------------------------
def build_model(d_turn: int, d_bg: int, d_flat: int, hidden: int, dropout: float, input_dropout: float):
    import torch

    class SeqModel(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.in_drop = torch.nn.Dropout(input_dropout)
            self.inp = torch.nn.Linear(d_turn, hidden)
            self.bg = torch.nn.Linear(d_bg, hidden)
            self.gru = torch.nn.GRU(hidden, hidden, batch_first=True)
            self.drop = torch.nn.Dropout(dropout)
            self.out = torch.nn.Linear(hidden + d_flat, S)
            # look-ahead heads (training only, not exported): the seeker's next message, the next strategy
            self.next_emb = torch.nn.Linear(hidden + d_flat, d_bg)
            self.next_y = torch.nn.Linear(hidden + d_flat, S)

        def forward(self, x, bg, flat, look_ahead: bool = False):
            h0 = torch.tanh(self.bg(bg)).unsqueeze(0)
            o, _ = self.gru(torch.nn.functional.gelu(self.inp(self.in_drop(x)), approximate="tanh"), h0)
            prev = torch.cat([h0.transpose(0, 1), o[:, :-1]], 1)  # the state before each turn
            state = self.drop(torch.cat([prev, flat], -1))
            if look_ahead:
                return self.out(state), self.next_emb(state), self.next_y(state)
            return self.out(state)

    return SeqModel()


def predict_logits(model, records) -> tuple[np.ndarray, np.ndarray]:
    import torch

    model.eval()
    out, gold = [], []
    with torch.no_grad():
        for s in range(0, len(records), 64):
            x, bg, flat, y = batch(records, list(range(s, min(len(records), s + 64))))
            logits = model(x, bg, flat)
            out.append(logits[y >= 0].numpy())
            gold.append(y[y >= 0].numpy())
    return np.concatenate(out), np.concatenate(gold)


def scores(proba: np.ndarray, gold: np.ndarray) -> dict:
    pred = proba.argmax(1)
    f1 = []
    for c in range(S):
        tp = int(((pred == c) & (gold == c)).sum())
        f1.append(2 * tp / max(1, 2 * tp + int(((pred == c) & (gold != c)).sum()) + int(((pred != c) & (gold == c)).sum())))
    return {"accuracy": float((pred == gold).mean()), "macro_f1": float(np.mean(f1)),
            "top3": float((np.argsort(-proba, 1)[:, :3] == gold[:, None]).any(1).mean())}


def train_member(train_recs, dev_recs, args, seed: int):
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    r0 = train_recs[0]
    model = build_model(r0["x"].shape[1], r0["bg"].shape[0], r0["flat"].shape[1], args.hidden, args.dropout,
                        args.input_dropout)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    best, best_state, best_epoch, stale = -1.0, None, 0, 0
    look_ahead = bool(args.next_message_weight or args.next_strategy_weight)
    for epoch in range(args.epochs):
        model.train()
        order = rng.permutation(len(train_recs))
        for s in range(0, len(order), args.batch_size):
            tensors = batch(train_recs, list(order[s:s + args.batch_size]), look_ahead)
            x, bg, flat, y = tensors[:4]
            mask = y >= 0
            if look_ahead:
                logits, next_emb_hat, next_y_logits = model(x, bg, flat, look_ahead=True)
                next_emb, has_next, next_y = tensors[4:]
            else:
                logits = model(x, bg, flat)
            loss = torch.nn.functional.cross_entropy(logits[mask], y[mask], label_smoothing=args.label_smoothing)
            # a batch may hold no target of a look-ahead task (no seeker reply after its supporter turns): no term
            if args.next_message_weight and bool((keep := mask & (has_next > 0)).any()):
                cos = torch.nn.functional.cosine_similarity(next_emb_hat[keep], next_emb[keep], dim=-1)
                loss = loss + args.next_message_weight * (1 - cos).mean()
            if args.next_strategy_weight and bool((keep := mask & (next_y >= 0)).any()):
                loss = loss + args.next_strategy_weight * torch.nn.functional.cross_entropy(
                    next_y_logits[keep], next_y[keep], label_smoothing=args.label_smoothing)
            opt.zero_grad()
            loss.backward()
            opt.step()
        logits, gold = predict_logits(model, dev_recs)
        acc = float((logits.argmax(1) == gold).mean())
        if args.progress:
            print(f"  seed {seed} epoch {epoch}: held-out fold accuracy {acc:.4f}", file=sys.stderr, flush=True)
        if acc > best:
            best, best_epoch, stale = acc, epoch, 0
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            stale += 1
            if stale >= args.patience:
                break
    model.load_state_dict(best_state)
    return model, best_epoch


def export(models, labels, logit_bias) -> SequenceEnsemble:
    def stack(get):
        return np.stack([get(m).detach().numpy().astype(np.float32) for m in models])

    params = {
        "inp_w": stack(lambda m: m.inp.weight), "inp_b": stack(lambda m: m.inp.bias),
        "bg_w": stack(lambda m: m.bg.weight), "bg_b": stack(lambda m: m.bg.bias),
        "w_ih": stack(lambda m: m.gru.weight_ih_l0), "w_hh": stack(lambda m: m.gru.weight_hh_l0),
        "b_ih": stack(lambda m: m.gru.bias_ih_l0), "b_hh": stack(lambda m: m.gru.bias_hh_l0),
        "out_w": stack(lambda m: m.out.weight), "out_b": stack(lambda m: m.out.bias),
        "logit_bias": np.asarray(logit_bias, np.float32),
    }
    return SequenceEnsemble(labels, params)


def softmax(z):
    z = z - z.max(-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(-1, keepdims=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--esconv", default=str(shared_data_dir() / "esconv"), help="folder with ESConv train.jsonl")
    p.add_argument("--jsonl", action="append", help="extra training dialogues in our JSONL format (repeatable)")
    p.add_argument("--output", default="artifacts/classifiers", help="classifier folder (its strategy section is replaced)")
    p.add_argument("--encoder", default=MULTILINGUAL_ENCODER)
    p.add_argument("--folds", type=int, default=5, help="conversation-level folds = ensemble members")
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--dropout", type=float, default=0.5)
    p.add_argument("--input-dropout", type=float, default=0.1)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=1e-2)
    p.add_argument("--label-smoothing", type=float, default=0.1)
    p.add_argument("--batch-size", type=int, default=16, help="dialogues per step")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--patience", type=int, default=6)
    p.add_argument("--next-message-weight", type=float, default=0.0,
                   help="look-ahead: weight of predicting the seeker's next message (cosine to its embedding)")
    p.add_argument("--next-strategy-weight", type=float, default=0.0,
                   help="look-ahead: weight of predicting the next supporter turn's strategy")
    p.add_argument("--tau", type=float, default=None, help="fix the rare-class bias strength (default: chosen out of fold)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, default=0, help="use only the first N training dialogues (smoke runs)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--no-cache", action="store_true", help="do not read/write the embedding cache")
    p.add_argument("--no-progress", dest="progress", action="store_false")
    args = p.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    start = time.time()
    dialogues = list(read_esconv(Path(args.esconv) / "train.jsonl")) if args.esconv else []
    for path in args.jsonl or ():
        dialogues.extend(read_jsonl(path))
    if args.limit:
        dialogues = dialogues[:args.limit]
    if len(dialogues) < args.folds:
        raise SystemExit(f"{len(dialogues)} training dialogues: fewer than --folds {args.folds}")
    encoder = embedding_cache(args.encoder, not args.no_cache)
    try:
        records = dialogue_records(dialogues, encoder, args.progress)
    finally:
        encoder.save()
    folds = np.array_split(np.random.default_rng(args.seed).permutation(len(records)), args.folds)
    models, oof_logits, oof_gold, epochs = [], [], [], []
    for k, held in enumerate(folds):
        held_set = set(held.tolist())
        train_recs = [records[i] for i in range(len(records)) if i not in held_set]
        dev_recs = [records[i] for i in held]
        model, epoch = train_member(train_recs, dev_recs, args, args.seed + k)
        logits, gold = predict_logits(model, dev_recs)
        print(f"member {k}: best epoch {epoch}, held-out fold {scores(softmax(logits), gold)}", file=sys.stderr, flush=True)
        models.append(model)
        oof_logits.append(logits)
        oof_gold.append(gold)
        epochs.append(epoch)
    logits, gold = np.concatenate(oof_logits), np.concatenate(oof_gold)
    counts = np.bincount(np.concatenate([r["y"][r["y"] >= 0] for r in records]), minlength=S)
    log_prior = np.log(np.maximum(counts, 1) / counts.sum())
    sweep = {tau: scores(softmax(logits - tau * log_prior), gold) for tau in TAUS}
    tau = args.tau if args.tau is not None else max(TAUS, key=lambda t: sweep[t]["accuracy"] + sweep[t]["macro_f1"])
    oof = scores(softmax(logits - tau * log_prior), gold)
    print(f"out of fold (tau {tau}): {oof}", file=sys.stderr)
    ensemble = export(models, STRATEGY_NAMES, -tau * log_prior)
    scorer = SequenceScorer(args.encoder, ensemble)
    log = {"backend": "sequence-gru", "train_dialogues": len(records), "train_examples": int(len(gold)),
           "folds": args.folds, "best_epochs": epochs, "tau": tau, "out_of_fold": {k: round(v, 4) for k, v in oof.items()},
           "out_of_fold_tau0": {k: round(v, 4) for k, v in sweep[0.0].items()},
           "settings": {k: getattr(args, k) for k in ("hidden", "dropout", "input_dropout", "lr", "weight_decay",
                                                       "label_smoothing", "batch_size", "epochs", "patience", "seed",
                                                       "next_message_weight", "next_strategy_weight")},
           "esconv": bool(args.esconv), "jsonl": list(args.jsonl or ()), "seconds": round(time.time() - start, 1)}
    out = Path(args.output)
    StrategyPredictor({"en": scorer}, "en").save(out, training=log)
    print(json.dumps(log))
    print(f"wrote {out} ({time.time() - start:.0f}s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
