"""Text generation for one reply: chat template, sampling settings, streaming, Group MoELoRA routing.

One ``ChatGenerator`` wraps one loaded model; a lock serialises generation so a single model copy is
shared safely between concurrent app users (routing state lives on the adapter layers during a call).
On a ZeroGPU Space the streaming function runs under ``@spaces.GPU``; elsewhere that decorator is a no-op.
"""

from __future__ import annotations

import threading
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from typing import Iterator

try:  # Hugging Face Spaces (ZeroGPU) allocate a GPU per decorated call.
    import spaces

    gpu = spaces.GPU
except ImportError:  # pragma: no cover - the package is only present on Spaces
    def gpu(fn=None, **_kwargs):
        return fn if fn is not None else (lambda f: f)


class GenerationError(RuntimeError):
    """Generation failed; the message is safe to show to a user."""


@dataclass
class SamplingSettings:
    """Defaults from the paper's Table 6 (inference): temperature 0.7, top-p 0.95, 256 new tokens.
    ``repetition_penalty`` (not in the paper) defaults to 1.1: small models otherwise loop on one phrase."""

    temperature: float = 0.7
    top_p: float = 0.95
    max_new_tokens: int = 256
    repetition_penalty: float = 1.1
    seed: int | None = None

    def __post_init__(self):
        if not 0.0 <= self.temperature <= 2.0:
            raise ValueError(f"temperature must be in [0, 2], got {self.temperature}")
        if not 0.0 < self.top_p <= 1.0:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if not 1 <= int(self.max_new_tokens) <= 2048:
            raise ValueError(f"max_new_tokens must be in [1, 2048], got {self.max_new_tokens}")
        if not 1.0 <= self.repetition_penalty <= 2.0:
            raise ValueError(f"repetition_penalty must be in [1, 2], got {self.repetition_penalty}")

    def generate_kwargs(self) -> dict:
        common = {"max_new_tokens": int(self.max_new_tokens), "repetition_penalty": float(self.repetition_penalty)}
        if self.temperature == 0:
            return {"do_sample": False, **common}
        return {"do_sample": True, "temperature": float(self.temperature), "top_p": float(self.top_p), **common}

    to_dict = asdict


class ChatGenerator:
    """Streams a reply for chat messages from ``model`` (a causal LM or a GroupMoELoraModel)."""

    def __init__(self, model, tokenizer, max_context_tokens: int = 2048):
        self.model = model
        self.tokenizer = tokenizer
        self.max_context_tokens = max_context_tokens
        self._lock = threading.Lock()

    @property
    def has_adapter(self) -> bool:
        return hasattr(self.model, "route") and hasattr(self.model, "gate_weights")

    def encode(self, messages: list[dict]):
        """Chat-template input ids; the oldest dialogue turns are dropped (system kept) to fit the context."""
        messages = list(messages)
        while True:
            enc = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                                     return_dict=True)
            if enc["input_ids"].shape[1] <= self.max_context_tokens or len(messages) <= 2:
                return enc
            del messages[1]

    def stream(self, messages: list[dict], settings: SamplingSettings, route: dict | None = None) -> Iterator[str]:
        """Yields text pieces as they are generated. ``route``: kwargs for ``model.route``; None with an adapter
        loaded runs the base model with the adapter disabled (PEFT's ``disable_adapter()``)."""
        yield from _stream_on_gpu(self, messages, settings, route)

    def _stream(self, messages, settings, route):
        import torch
        from transformers import TextIteratorStreamer

        inputs = self.encode(messages)
        device = next(self.model.parameters()).device
        inputs = {k: v.to(device) for k, v in inputs.items()}
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=300)
        failure: list[BaseException] = []

        def run():
            try:
                if settings.seed is not None:
                    torch.manual_seed(settings.seed)
                if not self.has_adapter:
                    routing = nullcontext()
                elif route:
                    routing = self.model.route(**route)
                else:  # a system without the adapter (base model, prompt-only): the base weights alone
                    routing = self.model.disable_adapter()
                with routing, torch.inference_mode():
                    self.model.generate(**inputs, **settings.generate_kwargs(), streamer=streamer,
                                        pad_token_id=self.tokenizer.pad_token_id)
            except BaseException as exc:  # surfaced to the caller below, never swallowed
                failure.append(exc)
                streamer.end()

        with self._lock:
            worker = threading.Thread(target=run, daemon=True)
            worker.start()
            for piece in streamer:
                if piece:
                    yield piece
            worker.join()
        if failure:
            raise GenerationError(f"generation failed: {type(failure[0]).__name__}: {failure[0]}") from failure[0]


@gpu
def _stream_on_gpu(generator: ChatGenerator, messages, settings, route):
    yield from generator._stream(messages, settings, route)
