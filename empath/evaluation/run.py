"""One evaluation run: answer every sampled turn with every system, score, report.

Outputs (:func:`run_evaluation`): ``predictions.jsonl`` (one line per turn, appended as turns complete, so a
killed run resumes; compacted to one line per turn at the end), ``results.json``, ``table.md`` and plots.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterable, Sequence

from ..generation import SamplingSettings
from ..pipeline import EmpathPipeline
from .judge import run_judge
from .records import append_jsonl, merge_predictions, progress_bar, read_jsonl_log, write_atomic
from .report import PUBLISHED, format_table, score_predictions, write_plots
from .systems import HUMAN, check_system_names, resolve_systems
from .turns import EvaluationError, decoding_settings, sample_turns, turn_seed

# What must not differ between a run and its resumption (it would change the replies).
RESUME_KEYS = ("data", "format", "decoding", "settings", "seed", "max_new_tokens", "base_model", "adapter")


def _check_resume(out: Path, config: dict) -> None:
    path = out / "config.json"
    if path.exists():
        old = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(old.get("settings"), dict):  # a setting added since that run had its default there
            old["settings"] = {**SamplingSettings().to_dict(), **old["settings"]}
        changed = [k for k in RESUME_KEYS if old.get(k) != config.get(k)]
        if changed:
            diff = ", ".join(f"{k}: {old.get(k)!r} -> {config.get(k)!r}" for k in changed)
            raise EvaluationError(f"{out} holds a run with other settings ({diff}); resume with the same settings "
                                  "or choose another --out")
    write_atomic(path, json.dumps({k: config.get(k) for k in RESUME_KEYS}, indent=2, ensure_ascii=False) + "\n")


def run_evaluation(pipeline: EmpathPipeline, dialogues: Iterable, systems: Sequence[str], out: str | os.PathLike, *,
                   every: int = 1, max_turns: int | None = None, offset: int = 0, seed: int = 0,
                   decoding: str = "app",
                   max_new_tokens: int | None = None, min_new_tokens: int | None = None,
                   persona_guidance: float = 1.0, persona_lexicon: float | None = None, candidates: int | None = None,
                   consensus: str | None = None, judge: bool = False,
                   judge_client: Any = None, judge_model: str | None = None, judge_against: str = HUMAN,
                   judge_turns: int | None = None,
                   config: dict | None = None, progress: bool = True, stop_after: int | None = None) -> dict:
    """Answer, score and write every output into ``out`` (resuming a partial run); returns the results."""
    # ``config`` adds fields (data path, format, model refs) to results.json and to the resume check;
    # ``stop_after`` returns after that many newly answered turns, unscored: an interrupted run, for tests
    names = check_system_names(systems)
    if judge and judge_against != HUMAN and judge_against not in names:
        raise EvaluationError(f"--judge-against {judge_against!r} is not among the systems ({', '.join(names)})")
    settings = decoding_settings(decoding, max_new_tokens=max_new_tokens, min_new_tokens=min_new_tokens,
                                 persona_guidance=persona_guidance, persona_lexicon=persona_lexicon,
                                 candidates=candidates, consensus=consensus)
    turns, counts = sample_turns(dialogues, every, max_turns, offset)
    if not turns:
        raise EvaluationError("no usable supporter turns in the data (each needs a seeker message before it)")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    config = {**(config or {}), "systems": names, "every": every, "offset": offset, "max_turns": max_turns,
              "seed": seed, "decoding": decoding, "max_new_tokens": settings.max_new_tokens, "settings": settings.to_dict()}
    _check_resume(out, config)
    log = out / "predictions.jsonl"
    merged = merge_predictions(read_jsonl_log(log))
    resolved = resolve_systems(pipeline, names)
    bar = progress_bar(len(turns), "answering", progress)
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
    write_atomic(log, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records + rest))
    results = {"config": config, "turns": len(turns), "counts": counts, **score_predictions(records, names),
               "published": PUBLISHED}
    if judge:
        results["judge"] = run_judge(records, names, out, client=judge_client, model=judge_model,
                                     opponent=judge_against, max_turns=judge_turns, progress=progress)
    results["plots"], results["notes"] = write_plots(results, out)
    write_atomic(out / "results.json", json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    write_atomic(out / "table.md", format_table(results))
    return results
