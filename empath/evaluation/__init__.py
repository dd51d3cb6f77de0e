"""The paper's Section 6 generation evaluation (Table 3, Figures 7-8) over gold dialogue histories.

For each sampled supporter turn of a dataset, the conversation is rebuilt from the *gold* history up to the
seeker's message and every system answers it through :meth:`EmpathPipeline.respond` (nothing is recorded).
Replies are scored against the human supporter's reply with :func:`empath.metrics.generation_metrics`.

The parts: :mod:`.turns` (which turns, how decoded), :mod:`.systems` (what answers them, gold-reply PPL),
:mod:`.records` (the resumable JSONL logs), :mod:`.report` (scores, table, plots, summary), :mod:`.judge`
(the pairwise LLM judge) and :mod:`.run` (:func:`run_evaluation`, the whole run and its outputs).
"""

from .judge import run_judge
from .records import append_jsonl, merge_predictions, read_jsonl_log
from .report import PUBLISHED, format_table, score_predictions, summary_line, write_plots
from .run import RESUME_KEYS, run_evaluation
from .systems import (CONSTANT, CONSTANT_REPLIES, HUMAN, SYSTEM_COMPONENTS, SYSTEM_LABELS, System,
                      check_system_names, gold_reply_loss, reply_loss, resolve_systems)
from .turns import DECODINGS, EvalTurn, EvaluationError, decoding_settings, sample_turns, split_message, turn_seed

__all__ = ["CONSTANT", "CONSTANT_REPLIES", "DECODINGS", "EvalTurn", "EvaluationError", "HUMAN", "PUBLISHED",
           "RESUME_KEYS", "SYSTEM_COMPONENTS", "SYSTEM_LABELS", "System", "append_jsonl", "check_system_names",
           "decoding_settings", "format_table", "gold_reply_loss", "merge_predictions", "read_jsonl_log",
           "reply_loss", "resolve_systems", "run_evaluation", "run_judge", "sample_turns", "score_predictions",
           "split_message", "summary_line", "turn_seed", "write_plots"]
