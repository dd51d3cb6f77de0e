"""Generation through any OpenAI-compatible chat server (vLLM, llama.cpp's server, Ollama, LM Studio, TGI, hosted APIs).

Empath still matches the persona, predicts the strategy, retrieves the experience and checks safety in-process;
only the reply is written by the server. Configuration (the names the LLM emotion scorer already reads):

``EMPATH_LLM_BASE_URL``   the server, e.g. ``http://127.0.0.1:8000/v1``
``EMPATH_LLM_MODEL``      the model name the server knows (the base model in ``lora`` mode)
``EMPATH_LLM_API_KEY``    sent as the bearer token (``OPENAI_API_KEY`` also works; local servers take any)
``EMPATH_LLM_ROUTES``     ``prompt`` (default): the route (persona + strategy + experience) is in the prompt, so
                          any chat model works; ``lora``: each turn asks for the route's LoRA by name,
                          ``<role>--<strategy-slug>`` (``python -m empath export-routes`` writes them and the
                          ``vllm serve`` line), and a turn without the adapter asks for ``EMPATH_LLM_MODEL``
``EMPATH_LLM_TIMEOUT``    seconds to wait for the server (connect, and between streamed chunks); default 60
``EMPATH_LLM_RETRIES``    retries with exponential backoff before the first token; default 2
``EMPATH_LLM_STREAM``     ``0`` asks for the whole reply at once (servers without streaming); default streamed
``EMPATH_GENERATOR``      ``local`` keeps local generation while ``EMPATH_LLM_*`` serve only the emotion scorer

With ``EMPATH_LLM_BASE_URL`` and ``EMPATH_LLM_MODEL`` set (and ``EMPATH_BASE_MODEL`` unset) the pipeline's base
model becomes the reference ``openai:<model>``; such references (``openai:<model>`` or
``openai:<model>@<base url>``) also work wherever a base model is named, e.g. in ``EMPATH_COMPARE_MODELS``.
A failure never loses the conversation: the turn ends with a :class:`GenerationError` message for the user.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from functools import cached_property
from typing import Iterator

import numpy as np

from .generation import GenerationError, SamplingSettings

REF_PREFIX = "openai:"
ROUTE_MODES = ("prompt", "lora")
UNIFORM_STRATEGY = "uniform"  # the LoRA name's strategy part when no strategy was predicted (all mixed evenly)
ROUTE_SEPARATOR = "--"


class RemoteConfigError(ValueError):
    """Settings for the OpenAI-compatible backend that cannot work."""


def strategy_slug(strategy) -> str:
    """``"Reflection of feelings"`` -> ``"reflection-of-feelings"``; a weight vector (no strategy) -> ``"uniform"``."""
    if strategy is None or not isinstance(strategy, str):
        return UNIFORM_STRATEGY
    from .strategies import normalize_strategy

    return re.sub(r"[^a-z0-9]+", "-", normalize_strategy(strategy).lower()).strip("-")


def route_model_name(role: str, strategy) -> str:
    """The served LoRA's name for a route: ``<role>--<strategy-slug>`` (``juliet--reflection-of-feelings``)."""
    if not isinstance(role, str) or not role:
        raise RemoteConfigError(f"a LoRA route needs one role id, got {role!r}")
    return f"{role}{ROUTE_SEPARATOR}{strategy_slug(strategy)}"


def _route_parts(route) -> tuple:
    """``(role, strategy)`` of a route: an ``empath.group_moelora.Route`` or a ``{"role", "strategy"}`` dict (read
    without importing the tuner, which a remote generator does not otherwise need)."""
    if hasattr(route, "as_kwargs"):
        route = route.as_kwargs()
    return route.get("role"), route.get("strategy")


def is_remote_ref(ref) -> bool:
    return isinstance(ref, str) and ref.strip().lower().startswith(REF_PREFIX)


def parse_ref(ref: str) -> tuple[str, str | None]:
    """``openai:<model>[@<base url>]`` -> ``(model, base url or None)``."""
    body = ref.strip()[len(REF_PREFIX):]
    model, _, base_url = body.partition("@")
    if not model.strip():
        raise RemoteConfigError(f"{ref!r}: name the model, e.g. openai:gpt-4o-mini or openai:qwen2.5@http://127.0.0.1:8000/v1")
    return model.strip(), (base_url.strip() or None)


def env_ref() -> str | None:
    """``openai:<EMPATH_LLM_MODEL>`` when the environment asks for remote generation, else None."""
    choice = (os.environ.get("EMPATH_GENERATOR") or "auto").strip().lower()
    if choice not in ("auto", "local", "openai"):
        raise RemoteConfigError(f"EMPATH_GENERATOR must be auto, local or openai, got {choice!r}")
    model = os.environ.get("EMPATH_LLM_MODEL") or ""
    if choice == "local":
        return None
    if choice == "openai" and not model:
        raise RemoteConfigError("EMPATH_GENERATOR=openai needs EMPATH_LLM_MODEL (and EMPATH_LLM_BASE_URL or an API key)")
    if choice == "openai" or (model and os.environ.get("EMPATH_LLM_BASE_URL")):
        return REF_PREFIX + model
    return None


@dataclass
class RemoteSettings:
    base_url: str | None
    model: str
    api_key: str | None = None
    routes: str = "prompt"
    timeout: float = 60.0
    retries: int = 2
    backoff: float = 0.5  # seconds before the first retry; doubled each time
    stream: bool = True

    def __post_init__(self):
        if self.routes not in ROUTE_MODES:
            raise RemoteConfigError(f"EMPATH_LLM_ROUTES must be one of {', '.join(ROUTE_MODES)}, got {self.routes!r}")
        if not self.base_url and not self.api_key:
            raise RemoteConfigError("remote generation needs EMPATH_LLM_BASE_URL (an OpenAI-compatible server) "
                                    "or EMPATH_LLM_API_KEY (OpenAI itself)")
        if self.timeout <= 0 or self.retries < 0:
            raise RemoteConfigError("EMPATH_LLM_TIMEOUT must be > 0 and EMPATH_LLM_RETRIES >= 0")

    @classmethod
    def from_ref(cls, ref: str, **overrides) -> "RemoteSettings":
        model, base_url = parse_ref(ref)
        env = os.environ

        def number(name, default, kind):
            try:
                return kind(env.get(name) or default)
            except ValueError as exc:
                raise RemoteConfigError(f"{name} must be a number, got {env.get(name)!r}") from exc

        values = dict(
            base_url=base_url or env.get("EMPATH_LLM_BASE_URL") or None,
            model=model,
            api_key=env.get("EMPATH_LLM_API_KEY") or env.get("OPENAI_API_KEY") or None,
            routes=(env.get("EMPATH_LLM_ROUTES") or "prompt").strip().lower(),
            timeout=number("EMPATH_LLM_TIMEOUT", 60.0, float),
            retries=number("EMPATH_LLM_RETRIES", 2, int),
            stream=(env.get("EMPATH_LLM_STREAM") or "1").strip().lower() not in ("0", "false", "no", "off"),
        )
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


class AdapterGates:
    """Gate weights of a route read from a Group MoELoRA adapter folder alone (no base model): what the app's
    gate panel shows when the routes are served elsewhere as exported LoRAs."""

    def __init__(self, adapter):
        self.adapter = adapter

    @cached_property
    def _loaded(self):
        from .adapter import adapter_folder
        from .group_moelora.persistence import read_adapter

        return read_adapter(adapter_folder(self.adapter))

    def gate_weights(self, role, strategy) -> dict[str, np.ndarray]:
        """The route's softmax gate outputs, as ``GroupMoELoraModel.gate_weights`` gives them."""
        from .adapter import LABEL_RESOLVERS
        from .group_moelora.export import route_gate_weights

        config, state = self._loaded
        return route_gate_weights(config, state, role, strategy, LABEL_RESOLVERS)


class _NoGates:
    def gate_weights(self, role, strategy) -> dict:
        return {}


class OpenAIGenerator:
    """The ``ChatGenerator`` interface (``stream``, ``has_adapter``, ``model.gate_weights``) over an OpenAI-compatible
    server. Thread-safe without a lock: the server batches concurrent requests itself."""

    def __init__(self, settings: RemoteSettings, adapter=None, client=None):
        self.settings = settings
        self.model = AdapterGates(adapter) if adapter else _NoGates()
        self._client = client

    @classmethod
    def from_ref(cls, ref: str, adapter=None, **overrides) -> "OpenAIGenerator":
        return cls(RemoteSettings.from_ref(ref, **overrides), adapter=adapter)

    @property
    def model_name(self) -> str:
        return self.settings.model

    @property
    def has_adapter(self) -> bool:
        """``lora`` mode serves the routes, so turns carry one; ``prompt`` mode has no adapter (route in the prompt)."""
        return self.settings.routes == "lora"

    @property
    def where(self) -> str:
        return self.settings.base_url or "api.openai.com"

    @property
    def client(self):
        if self._client is None:
            # openai's own Timeout class: httpx's in older releases, httpx2's since 3.6x (which refuses httpx's)
            from openai import OpenAI, Timeout

            timeout = Timeout(self.settings.timeout, connect=min(self.settings.timeout, 10.0))
            # Retries are done here (before the first token only), so the client itself does not retry.
            self._client = OpenAI(base_url=self.settings.base_url, api_key=self.settings.api_key or "not-needed",
                                  timeout=timeout, max_retries=0)
        return self._client

    def gate_weights(self, route) -> dict:
        """``ChatGenerator.gate_weights``: the adapter file's gate outputs for ``route`` (``{}`` without one)."""
        if not route:
            return {}
        role, strategy = _route_parts(route)
        return self.model.gate_weights(role, strategy)

    def model_for(self, route) -> str:
        """The model name a turn asks the server for: its route's LoRA in ``lora`` mode, else the base model."""
        if route and self.settings.routes == "lora":
            return route_model_name(*_route_parts(route))
        return self.settings.model

    def request(self, messages: list[dict], settings: SamplingSettings, route) -> dict:
        """The keyword arguments of ``chat.completions.create`` for one turn."""
        kwargs = {"model": self.model_for(route), "messages": list(messages),
                  "max_tokens": int(settings.max_new_tokens), "temperature": float(settings.temperature)}
        if settings.temperature > 0:
            kwargs["top_p"] = float(settings.top_p)
        if settings.seed is not None:
            kwargs["seed"] = int(settings.seed)
        if self.settings.routes == "lora":
            # vLLM / LoRAX read these; plain OpenAI would refuse an unknown parameter, so only in lora mode.
            extra = {}
            if settings.repetition_penalty != 1.0:
                extra["repetition_penalty"] = float(settings.repetition_penalty)
            if settings.temperature > 0 and settings.top_k:
                extra["top_k"] = int(settings.top_k)
            if extra:
                kwargs["extra_body"] = extra
        return kwargs

    def stream(self, messages: list[dict], settings: SamplingSettings, route=None, own_replies=(),
               guidance_messages=None, persona_words=()) -> Iterator[str]:
        """Yields text pieces; raises :class:`GenerationError` with a message meant for the user. ``own_replies``,
        ``guidance_messages`` and ``persona_words`` are accepted for the local generator's interface; an
        OpenAI-compatible server has no n-gram block, classifier-free guidance or word bias in its tokens to give
        them to."""
        import openai

        kwargs = self.request(messages, settings, route)
        retryable = (openai.APIConnectionError, openai.InternalServerError, openai.RateLimitError)
        attempts = self.settings.retries + 1
        for attempt in range(attempts):
            started = False
            try:
                if self.settings.stream:
                    for chunk in self.client.chat.completions.create(stream=True, **kwargs):
                        piece = _chunk_text(chunk)
                        if piece:
                            started = True
                            yield piece
                else:
                    response = self.client.chat.completions.create(**kwargs)
                    choices = getattr(response, "choices", None) or []
                    text = (choices[0].message.content or "") if choices else ""
                    if text:
                        started = True
                        yield text
                return
            except retryable as exc:
                if started:
                    raise GenerationError(f"the model server at {self.where} stopped in the middle of the reply "
                                          f"({_describe(exc)}); please send your message again") from exc
                if attempt + 1 < attempts:
                    time.sleep(self.settings.backoff * 2 ** attempt)
                    continue
                raise GenerationError(self._unreachable(exc, attempts)) from exc
            except openai.NotFoundError as exc:
                raise GenerationError(self._not_found(kwargs["model"], exc)) from exc
            except openai.AuthenticationError as exc:
                raise GenerationError(f"the model server at {self.where} refused the API key (401); "
                                      "check EMPATH_LLM_API_KEY") from exc
            except openai.APIStatusError as exc:
                raise GenerationError(f"the model server at {self.where} refused the request "
                                      f"({exc.status_code}: {_server_message(exc)})") from exc
            except openai.OpenAIError as exc:
                raise GenerationError(f"the model server at {self.where} sent something unusable ({_describe(exc)})") from exc

    def _unreachable(self, exc, attempts: int) -> str:
        import openai

        tries = f"{attempts} attempt{'s' if attempts > 1 else ''}"
        if isinstance(exc, openai.APITimeoutError):
            return (f"the model server at {self.where} did not answer within {self.settings.timeout:g} s ({tries}); "
                    "it may be overloaded. Your conversation is kept: please send your message again")
        if isinstance(exc, openai.APIConnectionError):
            return (f"the model server at {self.where} cannot be reached ({tries}); is it running? "
                    "Your conversation is kept: please send your message again")
        return (f"the model server at {self.where} failed ({_describe(exc)}; {tries}). "
                "Your conversation is kept: please send your message again")

    def _not_found(self, model: str, exc) -> str:
        served = self.served_models()
        listing = f" It serves: {', '.join(served[:12])}{' …' if len(served) > 12 else ''}." if served else ""
        hint = ""
        if self.settings.routes == "lora" and model != self.settings.model:
            hint = (" Export every route with `python -m empath export-routes` and start the server with the "
                    "generated serve-vllm.sh (its --lora-modules name each route).")
        return f"the model server at {self.where} has no model {model!r} (404).{listing}{hint}"

    def served_models(self) -> list[str]:
        try:
            return [m.id for m in self.client.models.list()]
        except Exception:  # noqa: BLE001 - only used to make an error message more helpful
            return []


def _chunk_text(chunk) -> str:
    choices = getattr(chunk, "choices", None) or []  # usage-only chunks carry no choices
    if not choices:
        return ""
    delta = getattr(choices[0], "delta", None)
    return (getattr(delta, "content", None) or "") if delta is not None else ""


def _server_message(exc) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        error = body.get("error")
        message = error.get("message") if isinstance(error, dict) else body.get("message")
        if message:
            return str(message)[:300]
    return str(getattr(exc, "message", exc))[:300]


def _describe(exc) -> str:
    return f"{type(exc).__name__}: {str(exc)[:200]}"


def remote_generator(ref: str, adapter=None) -> OpenAIGenerator:
    """The generator for a base-model reference ``openai:<model>[@<base url>]``; ``adapter`` (lora mode) gives
    the gate panel its weights."""
    return OpenAIGenerator.from_ref(ref, adapter=adapter)


__all__ = ["AdapterGates", "OpenAIGenerator", "REF_PREFIX", "RemoteConfigError", "RemoteSettings", "env_ref",
           "is_remote_ref", "parse_ref", "remote_generator", "route_model_name", "strategy_slug"]
