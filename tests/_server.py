"""The app served as users get it: the pipeline with a Group MoELoRA adapter loaded (the offline default loads
the demo adapter; here a tiny one on the tiny test model), for gradio_client and browser tests."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path


@contextmanager
def app_server(db: Path, **pipeline_overrides):
    """Yields ``{"url", "db", "pipeline", "parts"}`` for a running app; closes it afterwards."""
    from app import build_app
    from empath.arena import VoteStore
    from tests._tiny import tiny_adapter_generator
    from tests.test_pipeline import make_pipeline

    import torch

    pipeline_overrides.setdefault("generator", tiny_adapter_generator())
    pipe, parts = make_pipeline(**pipeline_overrides)
    # The app samples; the random-weight test model's samples may be in any script and be cleaned away. One seed
    # for the server's run makes the tests' replies repeatable (generation is serialised, so the draws are ordered).
    torch.manual_seed(0)
    assert pipe.has_adapter
    demo = build_app(pipe, VoteStore(db))
    demo.queue(default_concurrency_limit=1)
    _, url, _ = demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
    try:
        yield {"url": url, "db": db, "pipeline": pipe, "parts": parts}
    finally:
        demo.close()
