"""The chat models the derivation asks (an OpenAI-compatible endpoint or a local transformers model), with
retries, and the perplexity filter's scorer."""

from __future__ import annotations

import math
import os
import random
import threading
import time
from dataclasses import dataclass
from typing import Callable, Protocol

from .openai_env import openai_client_from_env


@dataclass
class Reply:
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0


class ChatBackend(Protocol):
    name: str

    def __call__(self, messages: list[dict]) -> Reply: ...


class OpenAIBackend:
    """Any OpenAI-compatible chat endpoint (OpenAI, vLLM, llama.cpp, Ollama ...). No client-side retries:
    :func:`call_with_retries` does them, so every attempt is counted."""

    def __init__(self, model: str | None = None, *, base_url: str | None = None, api_key: str | None = None,
                 timeout: float = 120.0, temperature: float = 0.7, max_tokens: int = 2048, client=None):
        self.model = model or os.environ.get("EMPATH_LLM_MODEL")
        if not self.model:
            raise ValueError("no model name: pass --model or set EMPATH_LLM_MODEL "
                             "(and EMPATH_LLM_BASE_URL / EMPATH_LLM_API_KEY for your endpoint)")
        if client is None:
            missing = ValueError("set EMPATH_LLM_BASE_URL (an OpenAI-compatible server) or EMPATH_LLM_API_KEY")
            client = openai_client_from_env(base_url, api_key, timeout=timeout, max_retries=0, missing=missing)
        self.client, self.temperature, self.max_tokens = client, temperature, max_tokens
        self.name = f"openai:{self.model}"

    def __call__(self, messages: list[dict]) -> Reply:
        response = self.client.chat.completions.create(model=self.model, messages=messages,
                                                       temperature=self.temperature, max_tokens=self.max_tokens)
        if not getattr(response, "choices", None):
            raise ValueError("the endpoint answered without choices")
        usage = getattr(response, "usage", None)
        return Reply(response.choices[0].message.content or "", getattr(usage, "prompt_tokens", 0) or 0,
                     getattr(usage, "completion_tokens", 0) or 0)


class TransformersBackend:
    """A local chat model (``empath.hub.load_causal_lm`` reference); one generation at a time."""

    def __init__(self, ref: str | None = None, *, max_new_tokens: int = 1024, temperature: float = 0.7):
        from .generation import ChatGenerator, SamplingSettings
        from .hub import load_causal_lm

        model, tokenizer = load_causal_lm(ref)
        self.generator = ChatGenerator(model, tokenizer, max_context_tokens=8192)
        self.settings = SamplingSettings(temperature=temperature, max_new_tokens=max_new_tokens)
        self.name = f"local:{ref or 'default'}"
        self._lock = threading.Lock()

    def __call__(self, messages: list[dict]) -> Reply:
        with self._lock:
            text = "".join(self.generator.stream(messages, self.settings))
            tok = self.generator.tokenizer
            prompt = len(tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=True))
            return Reply(text, prompt, len(tok(text, add_special_tokens=False)["input_ids"]))


def call_with_retries(backend: Callable[[list[dict]], Reply], messages: list[dict], retries: int = 3,
                      backoff: float = 2.0, sleep: Callable[[float], None] = time.sleep) -> tuple[Reply, int]:
    """(reply, attempts). Exponential backoff with jitter between attempts; the last error is raised."""
    for attempt in range(retries + 1):
        try:
            return backend(messages), attempt + 1
        except Exception:
            if attempt == retries:
                raise
            sleep(backoff * (2 ** attempt) * (0.5 + random.random() / 2))
    raise AssertionError("unreachable")


class PerplexityScorer:
    """Perplexity of a dialogue's text (turns without strategy tags) under a local causal LM; the paper used
    datajuicer's KenLM filter, so the same 1,500 threshold is on a different model's scale: tune ``max_ppl``."""

    def __init__(self, ref: str | None = None, model=None, tokenizer=None, max_tokens: int = 1024):
        if model is None:
            from .hub import load_causal_lm

            model, tokenizer = load_causal_lm(ref)
        self.model, self.tokenizer, self.max_tokens = model, tokenizer, max_tokens

    def __call__(self, text: str) -> float:
        import torch

        ids = self.tokenizer(text, add_special_tokens=False, return_tensors="pt")["input_ids"][:, : self.max_tokens]
        if ids.shape[1] < 2:
            return float("inf")
        device = next(self.model.parameters()).device
        with torch.no_grad():
            loss = self.model(input_ids=ids.to(device), labels=ids.to(device)).loss
        return float(math.exp(min(float(loss), 50.0)))
