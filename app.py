"""Empath web app: ``make run``, ``python app.py`` or the Hugging Face Space. The UI lives in ``empath.ui``.

Concurrency: one model copy is shared; generation events run one at a time
(``EMPATH_CONCURRENCY``, default 1) and further requests wait in Gradio's queue.
"""

from __future__ import annotations

import os

from empath.pipeline import EmpathPipeline, PipelineConfig
from empath.ui import build_app, comparison_systems

__all__ = ["build_app", "comparison_systems", "main"]  # tests and scripts import them from here


def main() -> None:
    """Loads the pipeline from the environment and serves the app."""
    pipeline = EmpathPipeline(PipelineConfig.from_env()).warm_up()
    others = [ref.strip() for ref in os.environ.get("EMPATH_COMPARE_MODELS", "").split(",") if ref.strip()]
    demo = build_app(pipeline, other_models=others)
    demo.queue(default_concurrency_limit=int(os.environ.get("EMPATH_CONCURRENCY", "1")))
    demo.launch(server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")))


if __name__ == "__main__":
    main()
