"""An OpenAI-compatible client configured from ``EMPATH_LLM_BASE_URL`` / ``EMPATH_LLM_API_KEY``."""

from __future__ import annotations

import os


def openai_client_from_env(base_url: str | None, api_key: str | None, *, timeout: float, max_retries: int,
                           missing: Exception):
    """An ``openai.OpenAI`` client; given values win over the environment (``OPENAI_API_KEY`` also works);
    raises ``missing`` when neither a server URL nor a key is known."""
    base_url = base_url or os.environ.get("EMPATH_LLM_BASE_URL") or None
    api_key = api_key or os.environ.get("EMPATH_LLM_API_KEY") or os.environ.get("OPENAI_API_KEY")
    if not base_url and not api_key:
        raise missing
    from openai import OpenAI

    # Local servers (vLLM, llama.cpp, Ollama) accept any key; the client insists on one.
    return OpenAI(base_url=base_url, api_key=api_key or "not-needed", timeout=timeout, max_retries=max_retries)
