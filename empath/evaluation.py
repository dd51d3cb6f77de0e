"""The paper's Section 6 generation evaluation (Table 3, Figures 7-8) over gold dialogue histories.

For each sampled supporter turn of a dataset, the conversation is rebuilt from the *gold* history up to the
seeker's message and every system answers it through :meth:`EmpathPipeline.respond` (nothing is recorded).
Replies are scored against the human supporter's reply with :func:`empath.metrics.generation_metrics`.

Sampling (:func:`sample_turns`): supporter turns in file order; a turn is usable when its context ends with one
or more seeker turns (they are joined by a newline into the message); turns with an empty context or a
context ending with a supporter turn are skipped and counted. Of the usable turns every ``every``-th is
taken (the 1st, (K+1)-th, ...), then the first ``max_turns`` of those.

The conversation: ``turns`` = the gold context before the seeker's message, ``background`` = the dataset's
question, description and keywords only (never its role, topic or problem type: the role is matched by the
pipeline, as in the app), ``lang`` = the dialogue's language. On a dialogue's first seeker turn (no history)
the pipeline itself uses the message as the background question, as the app does.

Decoding: ``app`` = :class:`SamplingSettings` defaults with a seed fixed per turn (CRC32 of run seed, dialogue
id and turn index, so a resumed run reproduces the same replies); ``greedy`` = the same with temperature 0.

Gold-reply perplexity (``PPL``, local-model systems): exp of the mean token cross-entropy of the gold reply
(+ EOS, the model's own tokenizer) after the system's own prompt (``TurnResult.messages``, chat template with the
generation prompt, oldest turns dropped as in serving) with the system's own route (base weights alone when a
system runs without the adapter); summed over every evaluated turn, then divided by the token count.

Outputs (:func:`run_evaluation`): ``predictions.jsonl`` (one line per turn, appended as turns complete, so a
killed run resumes; compacted to one line per turn at the end), ``results.json``, ``table.md`` and plots.
"""

from __future__ import annotations

import json
import math
import os
import zlib
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterable, Sequence

from .comparison import PROMPT_ONLY, SYSTEMS
from .dialogue import Background, Turn
from .generation import SamplingSettings
from .lang import lang_key
from .metrics import DEFECTS, TABLE3_COLUMNS, distinct_n, generation_metrics, reply_defects
from .pipeline import Components, Conversation, EmpathPipeline, InputError

CONSTANT = "constant"
HUMAN = "human"
CONSTANT_REPLIES = {
    "en": "I understand how you feel. Can you tell me more about it?",
    "zh": "我能理解你的感受。可以再多和我说说吗？",
}
# Command-line system names -> pipeline components (the paper's ablations, Section 6.5).
SYSTEM_COMPONENTS: dict[str, Components] = {
    "empath": SYSTEMS["Empath"],
    "base": SYSTEMS["Base model"],
    "no-role": SYSTEMS["Empath w/o role matching"],
    "no-strategy": SYSTEMS["Empath w/o strategy prediction"],
    "no-rag": SYSTEMS["Empath w/o experience RAG"],
    "prompt-only": SYSTEMS[PROMPT_ONLY],
}
SYSTEM_LABELS = {"empath": "Empath", "base": "Base model", "no-role": "w/o role matching",
                 "no-strategy": "w/o strategy prediction", "no-rag": "w/o experience RAG",
                 "prompt-only": "w/o adapter (prompt-only)", CONSTANT: "Constant reply", HUMAN: "Human (gold)"}
DECODINGS = ("app", "greedy")
# Published ESConv rows printed beside ours (English, their own splits and tokenisation: orientation only).
PUBLISHED = [
    {"system": "TransESC, conversation-level split (published re-run)", "comparable": "published; other sample",
     "PPL": 16.9, "B-4": 1.89, "R-L": 15.94, "D-1": 3.34},
    {"system": "TransESC paper, leaky 8:1:1 split", "comparable": "published; not comparable (leaky split)",
     "B-1": 17.92, "B-4": 2.43, "R-L": 17.51, "D-1": 4.73},
]
# What must not differ between a run and its resumption (it would change the replies).
RESUME_KEYS = ("data", "format", "decoding", "seed", "max_new_tokens", "base_model", "adapter")


class EvaluationError(ValueError):
    """A run cannot start or continue (bad system name, settings differing from the run being resumed)."""


# ---------------------------------------------------------------------------------------------
# Turns
# ---------------------------------------------------------------------------------------------
@dataclass
class EvalTurn:
    """One supporter turn to answer: the gold history, the seeker's message and the human reply."""

    dialogue_id: str
    turn_index: int  # index of the gold reply in Dialogue.turns
    lang: str
    background: Background
    history: list[Turn]
    message: str
    gold: str
    gold_strategy: str | None = None

    @property
    def key(self) -> tuple[str, int]:
        """(dialogue id, turn index): what resumption matches on."""
        return (self.dialogue_id, self.turn_index)

    def conversation(self) -> Conversation:
        """A fresh pipeline conversation holding the gold history (no role: the pipeline matches it)."""
        return Conversation(id=f"{self.dialogue_id}#{self.turn_index}", lang=self.lang, background=self.background,
                            turns=[Turn(t.speaker, t.text, t.strategy) for t in self.history])

    def record(self) -> dict:
        """The turn's fields for ``predictions.jsonl``."""
        return {"dialogue_id": self.dialogue_id, "turn": self.turn_index, "lang": self.lang,
                "context": [[t.speaker, t.text] for t in self.history], "message": self.message,
                "gold": self.gold, "gold_strategy": self.gold_strategy}


def split_message(context: Sequence[Turn]) -> tuple[list[Turn], str] | None:
    """``(history, message)``: the trailing seeker turns joined by newlines; None if there are none."""
    start = len(context)
    while start and context[start - 1].speaker == "seeker":
        start -= 1
    if start == len(context):
        return None
    return list(context[:start]), "\n".join(t.text.strip() for t in context[start:])


def sample_turns(dialogues: Iterable, every: int = 1, max_turns: int | None = None) -> tuple[list[EvalTurn], dict]:
    """The sampled turns (see the module docstring) and counts of supporter, usable and skipped turns."""
    if every < 1:
        raise EvaluationError("--every must be >= 1")
    turns, counts = [], {"supporter_turns": 0, "usable": 0, "skipped_no_seeker_message": 0}
    for dialogue in dialogues:
        bg = dialogue.background
        background = Background(question=bg.question, description=bg.description, keywords=list(bg.keywords))
        for context, target in dialogue.supporter_targets():
            counts["supporter_turns"] += 1
            split = split_message(context)
            if split is None:
                counts["skipped_no_seeker_message"] += 1
                continue
            counts["usable"] += 1
            if (counts["usable"] - 1) % every or (max_turns is not None and len(turns) >= max_turns):
                continue
            history, message = split
            turns.append(EvalTurn(dialogue.id, len(context), dialogue.lang, background, history, message,
                                  target.text.strip(), target.strategy))
    return turns, counts


def turn_seed(seed: int, dialogue_id: str, turn_index: int) -> int:
    """A sampling seed fixed per (run seed, dialogue, turn): stable across processes and resumptions."""
    return zlib.crc32(f"{seed}:{dialogue_id}:{turn_index}".encode("utf-8"))


def decoding_settings(decoding: str = "app", max_new_tokens: int | None = None) -> SamplingSettings:
    """The app's default sampling (``app``) or the same with temperature 0 (``greedy``)."""
    if decoding not in DECODINGS:
        raise EvaluationError(f"unknown decoding {decoding!r}; valid: {', '.join(DECODINGS)}")
    settings = SamplingSettings()
    if decoding == "greedy":
        settings = replace(settings, temperature=0.0)
    if max_new_tokens is not None:
        settings = replace(settings, max_new_tokens=max_new_tokens)  # replace() validates
    return settings


# ---------------------------------------------------------------------------------------------
# Systems
# ---------------------------------------------------------------------------------------------
@dataclass
class System:
    """A named system: a pipeline with components, or the constant reply (``pipeline`` None)."""

    name: str
    pipeline: EmpathPipeline | None = None
    components: Components = field(default_factory=Components)

    @property
    def label(self) -> str:
        """The name shown in tables and plots."""
        return SYSTEM_LABELS.get(self.name, self.name)

    def answer(self, turn: EvalTurn, settings: SamplingSettings, with_ppl: bool = True) -> dict:
        """This system's reply to ``turn`` with role, strategy, defects and (local models) the gold-reply loss."""
        if self.pipeline is None:
            reply = CONSTANT_REPLIES[lang_key(turn.lang)]
            return {"reply": reply, "role": None, "strategy": None, "defects": reply_defects(reply, turn.lang)}
        try:
            result = self.pipeline.respond(turn.conversation(), turn.message, components=self.components,
                                           settings=settings, record=False)
        except InputError as exc:
            return {"reply": "", "role": None, "strategy": None, "defects": [], "error": str(exc)}
        row = {"reply": result.response, "role": result.role, "strategy": result.strategy,
               "experience": (result.experience or {}).get("id") if result.experience_used else None,
               "crisis": result.crisis, "defects": reply_defects(result.response, result.lang)}
        if result.error:
            row["error"] = result.error
        if getattr(result, "notice", None):  # the model cannot write this language: nothing was generated
            row["notice"] = result.notice
        if with_ppl and result.messages:
            # the pipeline's own routing rule (None: base weights alone)
            route = self.pipeline.route_for(result, self.components)
            row["nll"], row["tokens"] = gold_reply_loss(self.pipeline.generator, result.messages, turn.gold, route)
        return row


def resolve_systems(pipeline: EmpathPipeline, names: Sequence[str]) -> list[System]:
    """Systems for checked names; a model ref runs full Empath prompting on that base model, no adapter."""
    systems = []
    for name in names:
        if name == CONSTANT:
            systems.append(System(name))
        elif name in SYSTEM_COMPONENTS:
            systems.append(System(name, pipeline, SYSTEM_COMPONENTS[name]))
        else:
            systems.append(System(name, pipeline.with_base_model(name), Components()))
    return systems


def check_system_names(names: Sequence[str]) -> list[str]:
    """Stripped, de-duplicated names; refuses 'human' and names neither built in nor a model ref (Hub id, folder)."""
    import difflib

    from .hub import DEFAULT_BASE_MODEL

    out, known = [], [*SYSTEM_COMPONENTS, CONSTANT]
    for name in (n.strip() for n in names):
        if not name or name in out:
            continue
        if name == HUMAN:
            raise EvaluationError("'human' is always reported (the gold replies); it is not a system to run")
        looks_like_ref = "/" in name or Path(name).is_dir() or name == DEFAULT_BASE_MODEL
        if name not in known and not looks_like_ref:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise EvaluationError(f"unknown system {name!r}{hint}; valid: {', '.join(known)} or a model ref "
                                  "(Hub id or local folder)")
        out.append(name)
    if not out:
        raise EvaluationError("no systems given")
    return out


# ---------------------------------------------------------------------------------------------
# Gold-reply perplexity
# ---------------------------------------------------------------------------------------------
def reply_loss(model, prompt_ids: Sequence[int], reply_ids: Sequence[int],
               route: dict | None = None) -> tuple[float, int]:
    """Summed cross-entropy (nats) of ``reply_ids`` after ``prompt_ids``, and their count; route None = base weights."""
    # a route goes through ``model.route(**route)``; without one an adapter model runs inside ``disable_adapter()``
    from contextlib import nullcontext

    import torch

    device = next(model.parameters()).device
    ids = torch.tensor([list(prompt_ids) + list(reply_ids)], device=device)
    labels = torch.tensor([[-100] * len(prompt_ids) + list(reply_ids)], device=device)
    if route is not None:
        context = model.route(**route)
    else:
        context = model.disable_adapter() if hasattr(model, "disable_adapter") else nullcontext()
    with context, torch.inference_mode():
        logits = model(input_ids=ids).logits
    shift_logits, shift_labels = logits[0, :-1].float(), labels[0, 1:]
    loss = torch.nn.functional.cross_entropy(shift_logits, shift_labels, ignore_index=-100, reduction="sum")
    return float(loss), int((shift_labels != -100).sum())


def gold_reply_loss(generator, messages: list[dict], gold: str, route: dict | None) -> tuple[float, int]:
    """:func:`reply_loss` of ``gold`` (+ EOS) after ``messages`` encoded as the generator serves them."""
    tokenizer = generator.tokenizer
    prompt_ids = generator.encode(messages)["input_ids"][0].tolist()
    reply_ids = tokenizer(gold.strip() + (tokenizer.eos_token or ""), add_special_tokens=False)["input_ids"]
    routed = getattr(generator, "routed", None)  # the generator's lock and merged route (single-route fast path)
    with routed(route) if routed else nullcontext():
        return reply_loss(generator.model, prompt_ids, reply_ids, route)


# ---------------------------------------------------------------------------------------------
# Resumable prediction log
# ---------------------------------------------------------------------------------------------
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


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _check_resume(out: Path, config: dict) -> None:
    path = out / "config.json"
    if path.exists():
        old = json.loads(path.read_text(encoding="utf-8"))
        changed = [k for k in RESUME_KEYS if old.get(k) != config.get(k)]
        if changed:
            diff = ", ".join(f"{k}: {old.get(k)!r} -> {config.get(k)!r}" for k in changed)
            raise EvaluationError(f"{out} holds a run with other settings ({diff}); resume with the same settings "
                                  "or choose another --out")
    _write_atomic(path, json.dumps({k: config.get(k) for k in RESUME_KEYS}, indent=2, ensure_ascii=False) + "\n")


# ---------------------------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------------------------
def score_predictions(records: Sequence[dict], systems: Sequence[str]) -> dict:
    """Per-system metrics over ``records`` (merged prediction lines, one per turn) plus the ``human`` row."""
    golds = [r["gold"] for r in records]
    rows: dict[str, dict] = {}
    for name in systems:
        answers = [r["systems"][name] for r in records]
        replies = [a.get("reply", "") for a in answers]
        row: dict[str, Any] = {k: round(v, 4) for k, v in generation_metrics(replies, golds).items()}
        tokens = sum(a.get("tokens", 0) for a in answers)
        row["PPL"] = round(math.exp(sum(a.get("nll", 0.0) for a in answers) / tokens), 3) if tokens else None
        row["n"] = len(answers)
        row["errors"] = sum(1 for a in answers if a.get("error"))
        row["crisis_replies"] = sum(1 for a in answers if a.get("crisis"))
        row["language_notices"] = sum(1 for a in answers if a.get("notice"))
        row["defects"] = {d: sum(1 for a in answers if d in a.get("defects", [])) for d in DEFECTS}
        row["mean_words"] = round(sum(len(x.split()) for x in replies) / max(len(replies), 1), 2)
        rows[name] = row
    human = {"D-1": round(distinct_n(golds, 1), 4), "D-2": round(distinct_n(golds, 2), 4), "n": len(golds),
             "mean_words": round(sum(len(g.split()) for g in golds) / max(len(golds), 1), 2)}
    for row in rows.values():
        row["D-2 / human"] = round(row["D-2"] / human["D-2"], 3) if human["D-2"] else None
    return {"systems": rows, HUMAN: human}


def format_table(results: dict) -> str:
    """A Markdown table shaped like the paper's Table 3, with the published ESConv anchors below ours."""
    judge = (results.get("judge") or {}).get("systems", {})
    judge_cols = list(next(iter(judge.values()))) if judge else []
    cols = ["PPL", *TABLE3_COLUMNS, *judge_cols]
    header = ["System", *cols, "D-2 / human", "defects (md/lang/speaker)", "n"]
    lines = [header, ["---"] + ["---:"] * (len(header) - 1)]

    def cell(value) -> str:
        return "–" if value is None else (f"{value:.2f}" if isinstance(value, float) else str(value))

    for name, row in results["systems"].items():
        values = [row.get(c) for c in ["PPL", *TABLE3_COLUMNS]] + [judge.get(name, {}).get(c) for c in judge_cols]
        lines.append([SYSTEM_LABELS.get(name, name), *map(cell, values), cell(row["D-2 / human"]),
                      "/".join(str(row["defects"][d]) for d in DEFECTS), str(row["n"])])
    human = results[HUMAN]
    lines.append([SYSTEM_LABELS[HUMAN], *(cell(human.get(c)) for c in cols), "1.00", "", str(human["n"])])
    for anchor in PUBLISHED:
        label = f"{anchor['system']} *({anchor['comparable']})*"
        lines.append([label, *(cell(anchor.get(c)) for c in cols), "", "", ""])
    cfg = results.get("config", {})
    every = cfg.get("every", 1)
    sample = "every usable supporter turn" if every == 1 else f"1 in {every} usable supporter turns"
    note = (f"{results.get('turns', human['n'])} turns of `{cfg.get('data', '?')}` ({sample}), decoding "
            f"`{cfg.get('decoding', '?')}`. Scores x100; D-1/D-2 corpus level; B-n corpus BLEU (sacrebleu on our "
            "tokens, brevity penalty, no smoothing); F1 and R-L means of per-reply scores; PPL of the gold reply after "
            "each system's own prompt. Published rows use their own splits and tokenisation.")
    if judge:
        note += (f" Judge columns: share of criteria won against `{results['judge']['opponent']}` "
                 "(both orders; tie = 0.5).")
    return "\n".join("| " + " | ".join(line) + " |" for line in lines) + "\n\n" + note + "\n"


# ---------------------------------------------------------------------------------------------
# Plots
# ---------------------------------------------------------------------------------------------
def write_plots(results: dict, out: Path) -> tuple[list[str], list[str]]:
    """Ablation bars (Fig. 7) and judge radar (Fig. 8): PNG via matplotlib, else plotly HTML; (files, notes)."""
    bars = {SYSTEM_LABELS.get(n, n): [r[c] for c in TABLE3_COLUMNS] for n, r in results["systems"].items()}
    judge = (results.get("judge") or {}).get("systems", {})
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        plt = None
    if plt is not None:
        files = [_bars_matplotlib(plt, bars, out / "ablation.png")]
        if judge:
            files.append(_radar_matplotlib(plt, judge, out / "judge_radar.png"))
        return files, []
    try:
        import plotly.graph_objects as go
    except ImportError:
        return [], ["no plots: neither matplotlib nor plotly is installed"]
    fig = go.Figure([go.Bar(name=name, x=list(TABLE3_COLUMNS), y=values) for name, values in bars.items()])
    fig.update_layout(barmode="group", title="Automatic metrics by system (x100)")
    files = [_write_plotly(fig, out / "ablation.html")]
    if judge:
        radar = go.Figure()
        for name, row in judge.items():
            axes = list(row)
            radar.add_trace(go.Scatterpolar(r=[row[a] for a in axes] + [row[axes[0]]], theta=axes + axes[:1],
                                            name=SYSTEM_LABELS.get(name, name)))
        radar.update_layout(polar={"radialaxis": {"range": [0, 1]}}, title="LLM judge: share won")
        files.append(_write_plotly(radar, out / "judge_radar.html"))
    return files, ["matplotlib is not installed: plots are interactive plotly HTML (plotly.js from its CDN)"]


def _write_plotly(fig, path: Path) -> str:
    fig.write_html(str(path), include_plotlyjs="cdn")
    return path.name


def _bars_matplotlib(plt, bars: dict, path: Path) -> str:
    fig, ax = plt.subplots(figsize=(10, 4))
    width = 0.8 / max(len(bars), 1)
    for i, (name, values) in enumerate(bars.items()):
        ax.bar([x + i * width for x in range(len(TABLE3_COLUMNS))], values, width, label=name)
    ax.set_xticks([x + width * (len(bars) - 1) / 2 for x in range(len(TABLE3_COLUMNS))], TABLE3_COLUMNS)
    ax.set_ylabel("score (x100)")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path.name


def _radar_matplotlib(plt, judge: dict, path: Path) -> str:
    axes = list(next(iter(judge.values())))
    angles = [2 * math.pi * i / len(axes) for i in range(len(axes))] + [0.0]
    fig, ax = plt.subplots(figsize=(5, 5), subplot_kw={"polar": True})
    for name, row in judge.items():
        ax.plot(angles, [row[a] for a in axes] + [row[axes[0]]], label=SYSTEM_LABELS.get(name, name))
    ax.set_xticks(angles[:-1], axes)
    ax.set_ylim(0, 1)
    ax.legend(fontsize="small", loc="lower right")
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path.name


# ---------------------------------------------------------------------------------------------
# LLM judge (pairwise, both orders)
# ---------------------------------------------------------------------------------------------
def run_judge(records: Sequence[dict], systems: Sequence[str], out: Path, *, client: Any = None,
              model: str | None = None, opponent: str = HUMAN, max_turns: int | None = None,
              progress: bool = False) -> dict:
    """Each system's reply judged pairwise against ``opponent`` (resumable ``judgements.jsonl``); mean shares won."""
    from .dialogue import format_turns
    from .metrics import judge_client_from_env, judge_criteria, judge_pair, summarize_judgements

    if client is None:
        client, env_model = judge_client_from_env()
        model = model or env_model
    log = out / "judgements.jsonl"
    done = {(j["dialogue_id"], j["turn"], j["system"], j["opponent"]): j for j in read_jsonl_log(log)}
    judged = [s for s in systems if s != opponent]
    chosen = list(records)[:max_turns] if max_turns is not None else list(records)
    bar = _progress(len(chosen) * len(judged), "judging", progress)
    for record in chosen:
        context = format_turns([Turn(s, t) for s, t in record["context"]] + [Turn("seeker", record["message"])],
                               record["lang"], with_strategy=False)
        other = record["gold"] if opponent == HUMAN else record["systems"][opponent]["reply"]
        for name in judged:
            key = (record["dialogue_id"], record["turn"], name, opponent)
            if key not in done:
                j = judge_pair(context, record["systems"][name]["reply"] or "(no reply)", other or "(no reply)",
                               client=client, model=model)
                done[key] = {"dialogue_id": key[0], "turn": key[1], "system": name, "opponent": opponent,
                             "scores": j.scores, "verdicts": j.verdicts, "consistent": j.consistent}
                append_jsonl(log, done[key])
            bar.update(1)
    bar.close()
    by_system, consistency = {}, {}
    for name in judged:
        rows = [done[(r["dialogue_id"], r["turn"], name, opponent)] for r in chosen]
        shares = summarize_judgements([SimpleNamespace(scores=row["scores"]) for row in rows]) if rows else {}
        by_system[name] = {k: round(v, 4) for k, v in shares.items()}
        consistency[name] = round(sum(row["consistent"] for row in rows) / max(len(rows), 1), 4)
    return {"opponent": opponent, "turns": len(chosen), "criteria": [c.abbreviation for c in judge_criteria()],
            "systems": by_system, "order_consistency": consistency}


# ---------------------------------------------------------------------------------------------
# The whole run
# ---------------------------------------------------------------------------------------------
def _progress(total: int, desc: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="turn", disable=not enabled, dynamic_ncols=True)


def run_evaluation(pipeline: EmpathPipeline, dialogues: Iterable, systems: Sequence[str], out: str | os.PathLike, *,
                   every: int = 1, max_turns: int | None = None, seed: int = 0, decoding: str = "app",
                   max_new_tokens: int | None = None, judge: bool = False, judge_client: Any = None,
                   judge_model: str | None = None, judge_against: str = HUMAN, judge_turns: int | None = None,
                   config: dict | None = None, progress: bool = True, stop_after: int | None = None) -> dict:
    """Answer, score and write every output into ``out`` (resuming a partial run); returns the results."""
    # ``config`` adds fields (data path, format, model refs) to results.json and to the resume check;
    # ``stop_after`` returns after that many newly answered turns, unscored: an interrupted run, for tests
    names = check_system_names(systems)
    if judge and judge_against != HUMAN and judge_against not in names:
        raise EvaluationError(f"--judge-against {judge_against!r} is not among the systems ({', '.join(names)})")
    settings = decoding_settings(decoding, max_new_tokens)
    turns, counts = sample_turns(dialogues, every, max_turns)
    if not turns:
        raise EvaluationError("no usable supporter turns in the data (each needs a seeker message before it)")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    config = {**(config or {}), "systems": names, "every": every, "max_turns": max_turns, "seed": seed,
              "decoding": decoding, "max_new_tokens": settings.max_new_tokens, "settings": settings.to_dict()}
    _check_resume(out, config)
    log = out / "predictions.jsonl"
    merged = merge_predictions(read_jsonl_log(log))
    resolved = resolve_systems(pipeline, names)
    bar = _progress(len(turns), "answering", progress)
    answered = 0
    for turn in turns:
        have = merged.get(turn.key, {}).get("systems", {})
        missing = [s for s in resolved if s.name not in have]
        if missing:
            if stop_after is not None and answered >= stop_after:
                bar.close()
                return {"stopped": True, "answered": answered}
            turn_settings = replace(settings, seed=turn_seed(seed, turn.dialogue_id, turn.turn_index))
            record = {**turn.record(), "systems": {s.name: s.answer(turn, turn_settings) for s in missing}}
            append_jsonl(log, record)
            merged.update(merge_predictions([*([merged[turn.key]] if turn.key in merged else []), record]))
            answered += 1
        bar.update(1)
    bar.close()
    records = [merged[t.key] for t in turns]
    # compact: one line per turn, sample order first, then turns of earlier runs outside this sample
    sampled = {t.key for t in turns}
    rest = [r for k, r in merged.items() if k not in sampled]
    _write_atomic(log, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records + rest))
    results = {"config": config, "turns": len(turns), "counts": counts, **score_predictions(records, names),
               "published": PUBLISHED}
    if judge:
        results["judge"] = run_judge(records, names, out, client=judge_client, model=judge_model,
                                     opponent=judge_against, max_turns=judge_turns, progress=progress)
    results["plots"], results["notes"] = write_plots(results, out)
    _write_atomic(out / "results.json", json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    _write_atomic(out / "table.md", format_table(results))
    return results


def summary_line(results: dict) -> dict:
    """The ``--json`` object: per system the Table 3 keys (plus PPL and the D-2 ratio), the human row, counts."""
    keys = (*TABLE3_COLUMNS, "PPL", "D-2 / human")
    rows = results["systems"]
    out = {"turns": results["turns"], "systems": {n: {k: r.get(k) for k in keys} for n, r in rows.items()},
           HUMAN: {k: results[HUMAN][k] for k in ("D-1", "D-2")},
           "defects": {n: r["defects"] for n, r in results["systems"].items()}}
    if "judge" in results:
        out["judge"] = results["judge"]["systems"]
    return out


__all__ = ["CONSTANT", "CONSTANT_REPLIES", "DECODINGS", "EvalTurn", "EvaluationError", "HUMAN", "PUBLISHED",
           "SYSTEM_COMPONENTS", "System", "check_system_names", "decoding_settings", "format_table", "gold_reply_loss",
           "reply_loss", "resolve_systems", "run_evaluation", "sample_turns", "score_predictions", "split_message",
           "summary_line", "turn_seed", "write_plots"]
