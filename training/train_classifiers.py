"""Train the role matcher and the strategy predictor (paper, Appendix B) on real dialogues.

Data: ESConv (``train`` split to fit, ``valid`` split to select the epoch) plus, optionally, our own
dialogue JSONL (``--jsonl``, repeatable; ``--valid-jsonl`` for held-out ones).

- Role labels: ``problem_type -> topic -> persona`` (done by :func:`empath.dialogue.read_esconv`); the
  input is the background (Eq. 9). Training also sees each dialogue's first seeker turns as the
  question, because that is what a live seeker types before any situation is known.
- Strategy labels: every supporter turn with a strategy, with all turns before it as context
  (consecutive supporter turns included).

Backends:

``--backend frozen`` (default)  frozen sentence encoder + MLP head. One head per language: ``en`` on
    ``--encoder`` (English dialogues), ``zh`` on ``--zh-encoder`` (multilingual; trained on all dialogues,
    so Chinese works through cross-lingual transfer when only English data exists). Embeddings are cached
    under ``$EMPATH_CACHE/embeddings`` so a rerun only encodes new text.
``--backend finetune``  full fine-tuning of ``--model`` (any AutoModelForSequenceClassification encoder;
    the paper uses hfl/chinese-roberta-wwm-ext-large, 4 epochs, lr 1e-5, batch 16) with transformers.Trainer.

Reproduce the shipped default (``empath/data/classifiers``), then its English role head (ESConv + the English
PsyQA-format questions of ``training/data/psyqa_en/train.json``, one hidden layer)::

    python -m training.train_classifiers --output empath/data/classifiers --encoder use-multilingual
    python -m training.train_classifiers --output empath/data/classifiers --tasks role --langs en \
        --encoder use-multilingual --role-hidden 512

Only the Chinese role head (ESConv + ``training/data/psyqa_zh/train.json``), keeping every other head::

    python -m training.train_classifiers --output empath/data/classifiers --tasks role --langs zh
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

from empath._data import repo_relative, shared_data_dir
from empath.classifiers import (ROLE_TASK, STRATEGY_TASK, CachedEncoder, FrozenEncoderScorer, RoleMatcher,
                                SimilarityScorer, StrategyPredictor, format_role_input, role_text, strategy_features)
from empath.dialogue import SEEKER, Background, Dialogue, read_esconv, read_jsonl
from empath.encoders import DEFAULT_ENCODER, MULTILINGUAL_ENCODER, get_encoder
from empath.hub import cache_dir
from empath.roles import load_roles
from empath.strategies import STRATEGY_NAMES
from training.classifier_training import finetune_sequence_classifier, train_head

OPENING_SEEKER_TURNS = 3  # what a live seeker has typed when the role is matched
PSYQA = {lang: Path(__file__).resolve().parent / "data" / f"psyqa_{lang}" / "train.json" for lang in ("en", "zh")}  # role questions
TEMPERATURES = (0.01, 0.02, 0.03, 0.05, 0.07, 0.1, 0.15, 0.2)


# ---------------------------------------------------------------------------------------------
# Examples
# ---------------------------------------------------------------------------------------------
def opening_question(dialogue: Dialogue, n: int = OPENING_SEEKER_TURNS) -> str:
    seeker = [t.text for t in dialogue.turns if t.speaker == SEEKER][:n]
    return " ".join(seeker)


def role_examples(dialogues, augment: bool = False) -> tuple[list[Background], list[str]]:
    """(backgrounds, gold role ids); with ``augment`` also each dialogue's opening seeker turns as the
    question, alone (a live first message) and together with the background."""
    backgrounds, labels = [], []
    for d in dialogues:
        if not d.background.role:
            continue
        variants = [d.background]
        opening = opening_question(d) if augment else ""
        if opening and not d.background.question:
            variants += [Background(question=opening), Background(opening, d.background.description, list(d.background.keywords))]
        for bg in variants:
            if role_text(bg):
                backgrounds.append(bg)
                labels.append(d.background.role)
    return backgrounds, labels


def _logged_path(path) -> str | None:
    """A data file as the training log names it: relative to the repository when inside it; None when not given."""
    return str(repo_relative(path) or path) if path else None


def psyqa_role_examples(path, every: int = 0) -> tuple[list[Background], list[str], list[Background], list[str]]:
    """PsyQA-format questions (``training/data/psyqa_<lang>/train.json``) as role examples: each question
    as title + description, title alone, description alone, and title + description with its keywords after
    the first (the first names the topic and is read by the keyword table at inference, not by the head).
    With ``every`` > 0, every ``every``-th question is kept apart (title + description) for epoch selection."""
    from empath.dialogue import read_psyqa

    train, labels, valid, valid_labels = [], [], [], []
    seen = set()
    for n, d in enumerate(x for x in read_psyqa(path) if x.background.role):
        bg = d.background
        if (bg.question, bg.description) in seen:  # one dialogue per answer: a question may repeat
            continue
        seen.add((bg.question, bg.description))
        if every and len(seen) % every == 0:
            valid.append(Background(bg.question, bg.description))
            valid_labels.append(bg.role)
            continue
        for variant in (Background(bg.question, bg.description), Background(bg.question), Background("", bg.description),
                        Background(bg.question, bg.description, list(bg.keywords[1:]))):
            if role_text(variant):
                train.append(variant)
                labels.append(bg.role)
    return train, labels, valid, valid_labels


def validation_role_examples(dialogues, role_names) -> tuple[list[Background], list[str]]:
    """:func:`role_examples` limited to the roles the head is trained on (it cannot be scored on others)."""
    backgrounds, labels = role_examples(dialogues)
    keep = [i for i, y in enumerate(labels) if y in role_names]
    if len(keep) < len(labels):
        print(f"validation: {len(labels) - len(keep)} backgrounds of roles absent from training skipped", file=sys.stderr)
    return [backgrounds[i] for i in keep], [labels[i] for i in keep]


def strategy_examples(dialogues) -> tuple[list[tuple[Background, list]], list[str]]:
    items, labels = [], []
    for d in dialogues:
        for context, target in d.supporter_targets():
            if target.strategy:
                items.append((d.background, list(context)))
                labels.append(target.strategy)
    return items, labels


def load_data(args) -> tuple[list[Dialogue], list[Dialogue]]:
    train, valid = [], []
    esconv = Path(args.esconv) if args.esconv else None
    if esconv is not None:
        for split, bucket in (("train", train), ("valid", valid)):
            path = esconv / f"{split}.jsonl"
            if not path.exists():
                raise SystemExit(f"{path} not found (set --esconv or EMPATH_SHARED_DATA; --esconv '' skips ESConv)")
            bucket.extend(read_esconv(path))
    for path in args.jsonl or ():
        train.extend(read_jsonl(path))
    for path in args.valid_jsonl or ():
        valid.extend(read_jsonl(path))
    if not train:
        raise SystemExit("no training dialogues: give --esconv and/or --jsonl")
    if args.limit:  # a quick smoke run of the whole recipe
        train, valid = train[:args.limit], valid[:args.limit]
    return train, valid


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def embedding_cache(encoder_name: str, use_cache: bool = True) -> CachedEncoder:
    path = cache_dir() / "embeddings" / f"{_slug(encoder_name)}.npz" if use_cache else None
    return CachedEncoder(get_encoder(encoder_name), max_items=None, path=path)


# ---------------------------------------------------------------------------------------------
# Frozen-encoder heads
# ---------------------------------------------------------------------------------------------
def calibrate_temperature(encoder: CachedEncoder, backgrounds, labels, lang: str = "en") -> float:
    """The similarity-fallback temperature with the best training log-likelihood of the gold role."""
    bank = load_roles()
    descriptions = encoder.encode([f"{bank.topic(r.topic).name(lang)}: {bank.topic(r.topic).description(lang)}"
                                   for r in bank])
    sims = encoder.encode([role_text(b) for b in backgrounds]) @ descriptions.T
    gold = np.array([bank.ids.index(y) for y in labels])
    best = max(TEMPERATURES, key=lambda t: _log_likelihood(sims / t, gold))
    return float(best)


def _log_likelihood(logits: np.ndarray, gold: np.ndarray) -> float:
    logits = logits - logits.max(1, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    return float(logp[np.arange(len(gold)), gold].mean())


def train_frozen(train, valid, encoder_name: str, args, lang: str, role_backend: str = "head"):
    """(role scorer, strategy scorer, log) for one language; ``role_backend="similarity"`` trains no role head."""
    encoder = embedding_cache(encoder_name, not args.no_cache)
    role_names = [r for r in load_roles().ids if any(d.background.role == r for d in train)]
    log: dict = {"encoder": encoder_name}
    role = strategy = None
    try:
        # role
        bgs, ys = role_examples(train, augment=True)
        temperature = calibrate_temperature(encoder, bgs, ys, lang)
        psyqa = getattr(args, f"psyqa_{lang}", None) if role_backend == "head" else None
        if ROLE_TASK not in getattr(args, "tasks", (ROLE_TASK,)):
            pass
        elif role_backend == "similarity":
            role = SimilarityScorer(ROLE_TASK, encoder_name, temperature=temperature)
            log["role"] = {"backend": "similarity", "temperature": temperature}
        else:
            vbgs, vys = validation_role_examples(valid, role_names)
            if psyqa:  # our PsyQA-format questions, oversampled next to ESConv's; a tenth picks the epoch
                zbgs, zys, zvbgs, zvys = psyqa_role_examples(psyqa, every=10)
                bgs, ys = bgs + zbgs * args.psyqa_repeat, ys + zys * args.psyqa_repeat
                vbgs, vys = vbgs + zvbgs, vys + zvys
                role_names = [r for r in load_roles().ids if r in set(ys)]
            x = encoder.encode([role_text(b) for b in bgs], progress=args.progress)
            xv = encoder.encode([role_text(b) for b in vbgs], progress=args.progress)
            head, hist = train_head(x, ys, role_names, (xv, vys) if vbgs else None, hidden=args.role_hidden,
                                    seed=args.seed, epochs=args.epochs, progress=args.progress, desc=f"role head ({lang})")
            role = FrozenEncoderScorer(ROLE_TASK, encoder_name, head, temperature=temperature)
            log["role"] = {"train_examples": len(ys), "valid_examples": len(vys), "temperature": temperature, **_summary(hist)}
            if psyqa:
                log["role"].update(**{f"psyqa_{lang}": _logged_path(psyqa)}, psyqa_train_examples=len(zys),
                                   psyqa_valid_questions=len(zvys), psyqa_repeat=args.psyqa_repeat)
        if STRATEGY_TASK not in getattr(args, "tasks", (STRATEGY_TASK,)):
            return role, strategy, log
        # strategy
        items, ys = strategy_examples(train)
        vitems, vys = strategy_examples(valid)
        x = strategy_features(items, encoder, progress=args.progress)
        xv = strategy_features(vitems, encoder, progress=args.progress)
        head, hist = train_head(x, ys, STRATEGY_NAMES, (xv, vys) if vitems else None, hidden=args.strategy_hidden,
                                lr=args.strategy_lr, input_dropout=0.0, standardize=False, seed=args.seed,
                                epochs=args.epochs, progress=args.progress, desc=f"strategy head ({lang})")
        strategy = FrozenEncoderScorer(STRATEGY_TASK, encoder_name, head)
        log["strategy"] = {"train_examples": len(ys), "valid_examples": len(vys), **_summary(hist)}
    finally:
        encoder.save()
    return role, strategy, log


def _summary(history: dict) -> dict:
    best = history["best_epoch"]
    out = {"best_epoch": best, "epochs_run": len(history["train_loss"])}
    if history["valid_accuracy"]:
        out["valid_accuracy"] = round(history["valid_accuracy"][best], 4)
    return out


# ---------------------------------------------------------------------------------------------
# Full fine-tuning
# ---------------------------------------------------------------------------------------------
def train_finetuned(train, valid, args) -> tuple[dict, dict]:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from empath.classifiers import strategy_pair
    from empath.hub import resolve

    path = resolve(args.model)
    tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=False)
    scorers, log = {}, {"model": args.model}
    role_names = [r for r in load_roles().ids if any(d.background.role == r for d in train)]
    for task in args.tasks:
        if task == ROLE_TASK:
            bgs, ys = role_examples(train, augment=True)
            vbgs, vys = validation_role_examples(valid, role_names)
            texts, vtexts, names = [role_text(b) for b in bgs], [role_text(b) for b in vbgs], role_names
        else:
            items, ys = strategy_examples(train)
            vitems, vys = strategy_examples(valid)
            texts = [strategy_pair(bg, turns, args.ft_max_turns) for bg, turns in items]
            vtexts = [strategy_pair(bg, turns, args.ft_max_turns) for bg, turns in vitems]
            names = STRATEGY_NAMES
        model = AutoModelForSequenceClassification.from_pretrained(  # fp32 master weights; bf16 autocast on GPU
            path, num_labels=len(names), use_safetensors=True, trust_remote_code=False, dtype=torch.float32)
        start = time.time()
        scorer, metrics = finetune_sequence_classifier(
            model, tokenizer, task, texts, ys, names, Path(args.work_dir) / task, (vtexts, vys) if vtexts else None,
            epochs=args.ft_epochs, learning_rate=args.ft_lr, batch_size=args.ft_batch_size, seed=args.seed,
            max_length=args.ft_max_length, max_turns=args.ft_max_turns, warmup_steps=args.ft_warmup,
            weight_decay=args.ft_weight_decay, disable_tqdm=not args.progress)
        scorers[task] = scorer
        log[task] = {**metrics, "train_examples": len(ys), "valid_examples": len(vys),
                     "seconds": round(time.time() - start, 1)}
    return scorers, log


# ---------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--esconv", default=str(shared_data_dir() / "esconv"),
                   help="folder with ESConv train.jsonl/valid.jsonl ('' to skip)")
    p.add_argument("--jsonl", action="append", help="extra training dialogues in our JSONL format (repeatable)")
    p.add_argument("--valid-jsonl", action="append", help="extra validation dialogues (our JSONL, repeatable)")
    p.add_argument("--output", default="artifacts/classifiers", help="classifier folder to write")
    p.add_argument("--backend", choices=("frozen", "finetune"), default="frozen")
    p.add_argument("--encoder", default=DEFAULT_ENCODER, help="sentence encoder of the English heads")
    p.add_argument("--zh-encoder", default=MULTILINGUAL_ENCODER, help="multilingual encoder of the Chinese heads ('none' to skip)")
    p.add_argument("--zh-role", choices=("similarity", "head"), default="head",
                   help="Chinese role matching: a head trained on the training dialogues and the Chinese PsyQA-format "
                        "questions of --psyqa-zh (default), or topic-description similarity (no training)")
    p.add_argument("--psyqa-zh", default=str(PSYQA["zh"]) if PSYQA["zh"].exists() else "",
                   help="Chinese PsyQA-format questions for the Chinese role head (--zh-role head; '' to skip)")
    p.add_argument("--psyqa-en", default=str(PSYQA["en"]) if PSYQA["en"].exists() else "",
                   help="English PsyQA-format questions for the English role head ('' to skip)")
    p.add_argument("--psyqa-repeat", type=int, default=3, help="times each PsyQA-format question variant is repeated")
    p.add_argument("--langs", nargs="+", choices=("en", "zh"), default=["en", "zh"],
                   help="--backend frozen: heads to train; the others already in --output are kept")
    p.add_argument("--role-hidden", type=int, nargs="*", default=[], help="hidden sizes of the role MLP (none = linear)")
    p.add_argument("--strategy-hidden", type=int, nargs="*", default=[])
    p.add_argument("--strategy-lr", type=float, default=3e-3)
    p.add_argument("--epochs", type=int, default=40, help="max epochs (early stopping on valid accuracy)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, default=0, help="use only the first N training and N validation dialogues")
    p.add_argument("--no-cache", action="store_true", help="do not read/write the embedding cache")
    p.add_argument("--no-progress", dest="progress", action="store_false")
    p.add_argument("--model", default="hfl/chinese-roberta-wwm-ext-large", help="--backend finetune: encoder to fine-tune")
    p.add_argument("--lang", default="zh", help="--backend finetune: language the fine-tuned heads serve")
    p.add_argument("--ft-epochs", type=float, default=4)
    p.add_argument("--ft-lr", type=float, default=1e-5)
    p.add_argument("--ft-batch-size", type=int, default=16)
    p.add_argument("--ft-max-length", type=int, default=512, help="tokens per input (the oldest context turns are cut)")
    p.add_argument("--ft-max-turns", type=int, default=12, help="context turns the strategy input keeps")
    p.add_argument("--ft-warmup", type=float, default=0.0, help="warm-up steps, or a fraction (< 1) of all steps")
    p.add_argument("--ft-weight-decay", type=float, default=0.0)
    p.add_argument("--tasks", nargs="+", choices=(ROLE_TASK, STRATEGY_TASK), default=[ROLE_TASK, STRATEGY_TASK],
                   help="which classifiers to train (frozen: the other one in --output is kept)")
    p.add_argument("--work-dir", default="artifacts/classifier-finetune", help="Trainer checkpoints")
    args = p.parse_args(argv)

    import torch

    torch.manual_seed(args.seed)
    start = time.time()
    train, valid = load_data(args)
    print(f"{len(train)} training dialogues, {len(valid)} validation dialogues", file=sys.stderr)
    out = Path(args.output)
    log: dict = {}
    if args.backend == "finetune":
        scorers, log["finetune"] = train_finetuned(train, valid, args)
        if ROLE_TASK in scorers:
            RoleMatcher({args.lang: scorers[ROLE_TASK]}, args.lang).save(out)
        if STRATEGY_TASK in scorers:
            StrategyPredictor({args.lang: scorers[STRATEGY_TASK]}, args.lang).save(out)
    else:
        heads = {"en": (args.encoder, [d for d in train if d.lang == "en"], [d for d in valid if d.lang == "en"])}
        if args.zh_encoder and args.zh_encoder.lower() != "none":
            heads["zh"] = (args.zh_encoder, train, valid)  # multilingual: every language helps
        partial = set(args.langs) != set(heads) or set(args.tasks) != {ROLE_TASK, STRATEGY_TASK}
        kept = (out / "config.json").exists() and partial  # update some heads of an existing folder
        roles = dict(RoleMatcher.load(out).scorers) if kept and ROLE_TASK in args.tasks else {}
        strategies = dict(StrategyPredictor.load(out).scorers) if kept and STRATEGY_TASK in args.tasks else {}
        for lang, (encoder, tr, va) in heads.items():
            if lang not in args.langs:
                continue
            backend = args.zh_role if lang == "zh" else "head"
            role, strategy, log[lang] = train_frozen(tr, va, encoder, args, lang, backend)
            roles.update({lang: role} if role is not None else {})
            strategies.update({lang: strategy} if strategy is not None else {})
        if ROLE_TASK in args.tasks:
            RoleMatcher(roles, "en").save(out)
        if STRATEGY_TASK in args.tasks:
            StrategyPredictor(strategies, "en").save(out)
    config_path = out / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    if args.backend == "frozen" and kept:  # keep the log of the heads and tasks not retrained
        old = (config.get("training") or {}).get("log") or {}
        log = {lang: {**old.get(lang, {}), **log.get(lang, {})} for lang in dict.fromkeys([*old, *log])}
    config["training"] = {"seed": args.seed, "esconv": bool(args.esconv), "jsonl": args.jsonl or [],
                          **{f"psyqa_{lang}": _logged_path(getattr(args, f"psyqa_{lang}")) for lang in PSYQA},
                          "role_input": format_role_input("Q", "D", ["K"]), "log": log}
    config_path.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(log, indent=2, ensure_ascii=False))
    print(f"wrote {out} in {time.time() - start:.0f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
