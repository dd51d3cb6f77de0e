"""The LLM judge: each system's reply against an opponent (the gold reply or another system), both orders."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, Sequence

from ..dialogue import Turn, format_turns
from ..metrics import judge_client_from_env, judge_criteria, judge_pair, summarize_judgements
from .records import append_jsonl, progress_bar, read_jsonl_log
from .systems import HUMAN


def run_judge(records: Sequence[dict], systems: Sequence[str], out: Path, *, client: Any = None,
              model: str | None = None, opponent: str = HUMAN, max_turns: int | None = None,
              progress: bool = False) -> dict:
    """Each system's reply judged pairwise against ``opponent`` (resumable ``judgements.jsonl``); mean shares won."""
    if client is None:
        client, env_model = judge_client_from_env()
        model = model or env_model
    log = out / "judgements.jsonl"
    done = {(j["dialogue_id"], j["turn"], j["system"], j["opponent"]): j for j in read_jsonl_log(log)}
    judged = [s for s in systems if s != opponent]
    chosen = list(records)[:max_turns] if max_turns is not None else list(records)
    bar = progress_bar(len(chosen) * len(judged), "judging", progress)
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
