"""Scores of an evaluation's predictions and how they are reported: the Table 3 shaped Markdown table, the
ablation and judge plots (Figures 7-8) and the one-line JSON summary."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

from ..metrics import DEFECTS, TABLE3_COLUMNS, distinct_n, generation_metrics
from ..postprocess import CONSENSUS_AGREEMENTS, consensus_reply
from .systems import HUMAN, SYSTEM_LABELS

# Published ESConv rows printed beside ours (English, their own splits and tokenisation: orientation only).
PUBLISHED = [
    {"system": "TransESC, conversation-level split (published re-run)", "comparable": "published; other sample",
     "PPL": 16.9, "B-4": 1.89, "R-L": 15.94, "D-1": 3.34},
    {"system": "TransESC paper, leaky 8:1:1 split", "comparable": "published; not comparable (leaky split)",
     "B-1": 17.92, "B-4": 2.43, "R-L": 17.51, "D-1": 4.73},
]


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
        if any(a.get("drafts") for a in answers):  # a turn without drafts (a crisis reply) keeps its one reply
            row["draft_choice"] = draft_choice_metrics([a.get("drafts") or [a.get("reply", "")] for a in answers],
                                                       golds)
        rows[name] = row
    human = {"D-1": round(distinct_n(golds, 1), 4), "D-2": round(distinct_n(golds, 2), 4), "n": len(golds),
             "mean_words": round(sum(len(g.split()) for g in golds) / max(len(golds), 1), 2)}
    for row in rows.values():
        row["D-2 / human"] = round(row["D-2"] / human["D-2"], 3) if human["D-2"] else None
    return {"systems": rows, HUMAN: human}


def draft_choice_metrics(drafts: Sequence[Sequence[str]], golds: Sequence[str]) -> dict:
    """Table 3 metrics of the same turns' drafts chosen by each consensus agreement (drafts against each other)."""
    return {agreement: {k: round(v, 4) for k, v in generation_metrics(
                [consensus_reply(list(d), agreement=agreement) for d in drafts], golds).items()}
            for agreement in CONSENSUS_AGREEMENTS}


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
    if cfg.get("offset"):
        sample += f", starting at usable turn {cfg['offset'] + 1}"
    settings = cfg.get("settings") or {}
    guidance, lexicon = settings.get("persona_guidance", 1.0), settings.get("persona_lexicon", 0.0)
    candidates, min_new = settings.get("candidates", 1), settings.get("min_new_tokens", 1)
    decoding = (f"`{cfg.get('decoding', '?')}`" + (f" with persona guidance {guidance:g}" if guidance != 1.0 else "")
                + (f" with persona lexicon {lexicon:g}" if lexicon else "")
                + (f" with at least {min_new} new tokens" if min_new > 1 else "")
                + (f" with the most agreed of {candidates} drafts" if candidates > 1 else "")
                + (f" by {settings['consensus']}" if candidates > 1 and "consensus" in settings else ""))
    note = (f"{results.get('turns', human['n'])} turns of `{cfg.get('data', '?')}` ({sample}), decoding "
            f"{decoding}. Scores x100; D-1/D-2 corpus level; B-n corpus BLEU (sacrebleu on our "
            "tokens, brevity penalty, no smoothing); F1 and R-L means of per-reply scores; PPL of the gold reply after "
            "each system's own prompt. Published rows use their own splits and tokenisation.")
    if judge:
        note += (f" Judge columns: share of criteria won against `{results['judge']['opponent']}` "
                 "(both orders; tie = 0.5).")
    table = "\n".join("| " + " | ".join(line) + " |" for line in lines) + "\n\n" + note + "\n"
    return table + _draft_choice_table(results["systems"])


def _draft_choice_table(rows: dict) -> str:
    """The systems' recorded drafts chosen by each agreement, as a second small table ('' without drafts)."""
    lines = [f"| {SYSTEM_LABELS.get(name, name)}, drafts chosen by {agreement} | "
             + " | ".join(f"{scores[c]:.2f}" for c in TABLE3_COLUMNS) + " |"
             for name, row in rows.items() for agreement, scores in row.get("draft_choice", {}).items()]
    if not lines:
        return ""
    return ("\nThe same drafts, chosen by each agreement (drafts compared with each other):\n\n"
            "| System | " + " | ".join(TABLE3_COLUMNS) + " |\n|---" + "|---:" * len(TABLE3_COLUMNS) + "|\n"
            + "\n".join(lines) + "\n")


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
