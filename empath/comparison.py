"""The systems a person compares side by side (the app's Compare tab) and the evaluation runs: Empath, the base
model and the paper's ablations (Section 6.5), each a set of pipeline ``Components``."""

from __future__ import annotations

from .pipeline import Components, EmpathPipeline

PROMPT_ONLY = "Empath w/o adapter (prompt-only)"
# Names are what voters see after voting.
SYSTEMS: dict[str, Components] = {
    "Empath": Components(),
    "Base model": Components(role_matching=False, strategy_prediction=False, experience_rag=False,
                             adapter=False, persona=False),
    "Empath w/o role matching": Components(role_matching=False),
    "Empath w/o strategy prediction": Components(strategy_prediction=False),
    "Empath w/o experience RAG": Components(experience_rag=False),
    PROMPT_ONLY: Components(adapter=False),
}


def systems_for(pipeline: EmpathPipeline) -> dict[str, Components]:
    """The comparison systems ``pipeline`` can run; the prompt-only ablation equals Empath when no adapter is loaded."""
    if pipeline.has_adapter:
        return dict(SYSTEMS)
    return {name: components for name, components in SYSTEMS.items() if name != PROMPT_ONLY}


__all__ = ["PROMPT_ONLY", "SYSTEMS", "systems_for"]
