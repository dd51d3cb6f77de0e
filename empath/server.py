"""Empath as an OpenAI-compatible HTTP API (``python -m empath serve``), for chat front-ends and OpenAI SDKs.

``GET /v1/models``: ``empath`` (persona matched from the conversation) and ``empath:<persona id>`` (pinned).
``POST /v1/chat/completions``: the conversation is read from ``messages`` (``user`` = the seeker, ``assistant`` =
Empath; ``system`` messages are ignored, since Empath writes its own), the last message is the seeker's new one.
Every turn runs the whole pipeline: safety first (a crisis message gets the fixed, reviewed reply), persona
matching, strategy prediction, experience retrieval, then generation. ``stream: true`` answers with server-sent
events as OpenAI does. The reply carries Empath's decisions in an extra field ``empath`` (clients that do not know
it ignore it)::

    "empath": {"role": "juliet", "role_name": "Juliet", "strategy": "Reflection of feelings",
               "strategy_source": "predicted", "experience": {...} | null, "experience_used": true,
               "crisis": false, "crisis_mode": false, "notice": null, "gate_weights": {...} | null}

A request may also carry ``"empath": {"strategy": "Question", "lang": "zh"}`` (expert intervention, as in the app).
Errors are OpenAI-style JSON (``{"error": {"message", "type", "param", "code"}}``) with status 400 (bad request),
401 (API key), 404 (unknown model or path), 413 (request too large) or 502 (generation failed); never a traceback.
The API is stateless: the conversation is rebuilt from ``messages`` on every request.
"""

# No ``from __future__ import annotations``: FastAPI reads the endpoints' annotations (``Request``) at runtime.
import json
import logging
import threading
import time
import uuid
from collections import OrderedDict
from typing import Any, Iterator

from .dialogue import Turn, detect_language
from .generation import SamplingSettings
from .pipeline import AUTO, Conversation, EmpathPipeline, InputError, TurnResult
from .small_talk import seeker_background

log = logging.getLogger("empath.server")

MODEL_ID = "empath"
MAX_BODY_BYTES = 256 * 1024
MAX_MESSAGES = 200
DEFAULT_MAX_TOKENS = 256
DEFAULTS = SamplingSettings()  # a request without temperature / top_p / top_k gets the app's decoding
MAX_TOKENS_LIMIT = 1024
_ROLES = ("system", "developer", "user", "assistant")


class APIError(Exception):
    """An error answered as OpenAI does: ``{"error": {...}}`` with ``status``."""

    def __init__(self, message: str, status: int = 400, type_: str = "invalid_request_error",
                 param: str | None = None, code: str | None = None):
        super().__init__(message)
        self.status, self.type, self.param, self.code = status, type_, param, code

    def body(self) -> dict:
        return {"error": {"message": str(self), "type": self.type, "param": self.param, "code": self.code}}


class _CrisisMemory:
    """Safety verdicts of earlier seeker messages (the API is stateless; a conversation's earlier crisis turns
    still switch on the follow-up safety prompt and the next crisis reply text). A small LRU cache."""

    def __init__(self, size: int = 4096):
        self.size = size
        self._cache: OrderedDict[tuple[str, str], bool] = OrderedDict()
        self._lock = threading.Lock()

    def crisis(self, pipeline: EmpathPipeline, text: str, lang: str) -> bool:
        key = (lang, text)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        verdict = bool(pipeline.safety.check(text, lang=lang).crisis)
        with self._lock:
            self._cache[key] = verdict
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)
        return verdict


def _text(content: Any, where: str) -> str:
    """A message's content: a string, or OpenAI's list of parts (text parts joined; other parts refused)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
                raise APIError("only text content parts are supported", param=where)
            texts.append(part["text"])
        return "\n".join(texts)
    if content is None:
        return ""
    raise APIError("content must be a string or a list of text parts", param=where)


class EmpathAPI:
    """Request handling without the web framework (validation, conversation, pipeline call, response bodies)."""

    def __init__(self, pipeline: EmpathPipeline, *, max_tokens_limit: int = MAX_TOKENS_LIMIT,
                 default_max_tokens: int = DEFAULT_MAX_TOKENS, max_messages: int = MAX_MESSAGES):
        self.pipeline = pipeline
        self.max_tokens_limit = max_tokens_limit
        self.default_max_tokens = min(default_max_tokens, max_tokens_limit)
        self.max_messages = max_messages
        self.created = int(time.time())
        self._crises = _CrisisMemory()

    # -- models ----------------------------------------------------------------------------------
    def model_ids(self) -> list[str]:
        return [MODEL_ID] + [f"{MODEL_ID}:{role.id}" for role in self.pipeline.roles]

    def models(self) -> dict:
        return {"object": "list", "data": [self.model_card(m) for m in self.model_ids()]}

    def model_card(self, model_id: str) -> dict:
        return {"id": model_id, "object": "model", "created": self.created, "owned_by": "empath"}

    def persona_of(self, model: Any) -> str | None:
        """``empath`` -> None (matched); ``empath:<persona id or name>`` -> the persona id; else 404."""
        if not isinstance(model, str) or not model.strip():
            raise APIError("model is required: 'empath' or 'empath:<persona>'", param="model")
        name, _, persona = model.strip().partition(":")
        if name != MODEL_ID:
            raise APIError(f"The model `{model}` does not exist; this server has {', '.join(self.model_ids()[:3])}, …",
                           status=404, param="model", code="model_not_found")
        if not persona:
            return None
        try:
            return self.pipeline.roles.resolve(persona).id
        except (KeyError, ValueError):
            raise APIError(f"The model `{model}` does not exist: unknown persona {persona!r}; GET /v1/models lists them",
                           status=404, param="model", code="model_not_found") from None

    # -- one request -----------------------------------------------------------------------------
    def parse(self, body: Any) -> dict:
        """Validated request: persona, conversation, message, settings, overrides, stream."""
        if not isinstance(body, dict):
            raise APIError("the request body must be a JSON object")
        persona = self.persona_of(body.get("model"))
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise APIError("messages must be a non-empty list", param="messages")
        if len(messages) > self.max_messages:
            raise APIError(f"at most {self.max_messages} messages per request", param="messages")
        turns: list[tuple[str, str]] = []
        for i, message in enumerate(messages):
            if not isinstance(message, dict) or message.get("role") not in _ROLES:
                raise APIError(f"messages[{i}] needs a role among {', '.join(_ROLES)}", param=f"messages[{i}].role")
            text = _text(message.get("content"), f"messages[{i}].content")
            if message["role"] in ("user", "assistant"):
                turns.append(("seeker" if message["role"] == "user" else "supporter", text))
        if not turns or turns[-1][0] != "seeker":
            raise APIError("the last message must be the user's (the seeker's new message)", param="messages")
        if body.get("n") not in (None, 1):
            raise APIError("n must be 1", param="n")
        max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
        if max_tokens is None:
            max_tokens = self.default_max_tokens
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or not 1 <= max_tokens <= self.max_tokens_limit:
            raise APIError(f"max_tokens must be an integer in [1, {self.max_tokens_limit}]", param="max_tokens")
        try:
            settings = SamplingSettings(temperature=_number(body, "temperature", DEFAULTS.temperature),
                                        top_p=_number(body, "top_p", DEFAULTS.top_p),
                                        top_k=_number(body, "top_k", DEFAULTS.top_k),  # as vLLM: not in OpenAI's API
                                        max_new_tokens=max_tokens,
                                        seed=_seed(body.get("seed")))
        except ValueError as exc:
            raise APIError(str(exc)) from None
        stream = body.get("stream", False)
        if not isinstance(stream, bool):
            raise APIError("stream must be true or false", param="stream")
        extra = body.get("empath") or {}
        if not isinstance(extra, dict):
            raise APIError("empath must be an object, e.g. {\"strategy\": \"Question\"}", param="empath")
        return {"persona": persona, "turns": turns, "settings": settings, "stream": stream,
                "strategy": extra.get("strategy"), "lang": extra.get("lang"), "model": body["model"]}

    def conversation(self, turns: list[tuple[str, str]], lang_override: str | None) -> Conversation:
        """The earlier turns as a Conversation, as the app would hold it after them."""
        conv = Conversation()
        earlier = turns[:-1]
        seeker_texts = [t for s, t in earlier if s == "seeker"]
        if not earlier:
            return conv
        first = seeker_texts[0] if seeker_texts else turns[-1][1]
        conv.lang = lang_override if lang_override in ("en", "zh") else detect_language(first)
        conv.background = seeker_background(seeker_texts or [first], conv.lang)
        conv.turns = [Turn(speaker, text) for speaker, text in earlier]
        crises = [self._crises.crisis(self.pipeline, text, conv.lang) for text in seeker_texts]
        conv.crisis = any(crises)
        conv.results = [{"crisis": c} for c in crises]
        return conv

    def run(self, request: dict) -> Iterator[TurnResult]:
        """The pipeline's stream for the request (InputError -> 400 before anything is sent)."""
        conv = self.conversation(request["turns"], request["lang"])
        stream = self.pipeline.stream(conv, request["turns"][-1][1], role=request["persona"],
                                      strategy=request["strategy"] or AUTO, lang=request["lang"] or AUTO,
                                      settings=request["settings"], record=False)
        try:
            first = next(stream)
        except (InputError, KeyError, ValueError) as exc:
            raise APIError(exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)) from None
        yield first
        yield from stream

    def decisions(self, result: TurnResult) -> dict:
        role = self.pipeline.roles.get(result.role) if result.role else None
        return {"role": result.role, "role_name": role.name_en if role else None, "role_source": result.role_source,
                "strategy": result.strategy, "strategy_source": result.strategy_source,
                "experience": result.experience, "experience_used": result.experience_used,
                "emotion": result.emotion or None, "crisis": result.crisis, "crisis_mode": result.crisis_mode,
                "notice": result.notice, "gate_weights": result.gate_weights, "lang": result.lang}

    def completion(self, request: dict) -> dict:
        result = None
        for result in self.run(request):
            pass
        if result.error:
            raise APIError(result.error, status=502, type_="server_error", code="generation_failed")
        content = result.notice or result.response
        usage = self._usage(result, content)
        finish = "length" if usage and usage["completion_tokens"] >= request["settings"].max_new_tokens else "stop"
        body = {"id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "object": "chat.completion", "created": int(time.time()),
                "model": request["model"],
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}],
                "empath": self.decisions(result)}
        if usage:
            body["usage"] = usage
        return body

    def _usage(self, result: TurnResult, content: str) -> dict | None:
        generator = self.pipeline._generator
        tokenizer = getattr(generator, "tokenizer", None)
        if tokenizer is None or not result.messages or result.crisis or result.notice:
            return None
        prompt = int(generator.encode(result.messages)["input_ids"].shape[1])
        completion = len(tokenizer(content, add_special_tokens=False)["input_ids"])
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def chunks(self, request: dict, results: Iterator[TurnResult]) -> Iterator[str]:
        """Server-sent events: a first chunk with the role and Empath's decisions, content deltas, a last chunk
        with ``finish_reason`` (and ``empath.content``, the final post-processed reply), then ``[DONE]``."""
        cid, created, model = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time()), request["model"]

        def event(delta: dict, finish: str | None = None, **extra) -> str:
            chunk = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                     "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
            return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"

        sent, opened, result = "", False, None
        try:
            for result in results:
                if result.error:
                    break
                if not opened:  # the decisions go out with the first chunk
                    opened = True
                    yield event({"role": "assistant", "content": ""}, empath=self.decisions(result))
                text = result.notice or result.response
                if len(text) > len(sent) and text.startswith(sent):  # post-processing may rewrite the tail
                    yield event({"content": text[len(sent):]})
                    sent = text
        except Exception as exc:  # noqa: BLE001 - reported to the client as an error event, logged here
            log.exception("generation failed")
            result = None
            yield _error_event(f"generation failed: {type(exc).__name__}")
            yield "data: [DONE]\n\n"
            return
        if result is None or result.error:
            yield _error_event(result.error if result is not None else "no reply was produced", "generation_failed")
            yield "data: [DONE]\n\n"
            return
        final = result.notice or result.response
        if final.startswith(sent) and len(final) > len(sent):
            yield event({"content": final[len(sent):]})
        yield event({}, "stop", empath={**self.decisions(result), "content": final})
        yield "data: [DONE]\n\n"


def _error_event(message: str, code: str | None = None) -> str:
    body = {"error": {"message": message, "type": "server_error", "param": None, "code": code}}
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


def _number(body: dict, name: str, default: float) -> float:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise APIError(f"{name} must be a number", param=name)
    return float(value)


def _seed(value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise APIError("seed must be an integer", param="seed")
    return value


def create_app(pipeline: EmpathPipeline, *, api_key: str | None = None, max_body_bytes: int = MAX_BODY_BYTES,
               max_tokens_limit: int = MAX_TOKENS_LIMIT):
    """The FastAPI app over ``pipeline`` (served with uvicorn by ``python -m empath serve``)."""
    from fastapi import FastAPI

    api = EmpathAPI(pipeline, max_tokens_limit=max_tokens_limit)
    app = FastAPI(title="Empath", description=__doc__.split("\n\n")[0], docs_url=None, redoc_url=None)
    app.state.api = api
    _add_error_handlers(app)
    _add_guard(app, api_key, max_body_bytes)
    _add_model_routes(app, api)
    _add_chat_route(app, api, max_body_bytes)
    return app


def _error_response(exc: APIError):
    from fastapi.responses import JSONResponse

    return JSONResponse(exc.body(), status_code=exc.status)


def _add_error_handlers(app) -> None:
    """Every error, the framework's own included, answered as OpenAI-style JSON (never a traceback)."""
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException as StarletteHTTPException

    @app.exception_handler(APIError)
    async def _api_error(request, exc: APIError):
        return _error_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request, exc):
        kind = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code)
        return _error_response(APIError(str(exc.detail), status=exc.status_code, code=kind))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request, exc):
        return _error_response(APIError("invalid request"))

    @app.exception_handler(Exception)
    async def _unexpected(request, exc):
        log.exception("unexpected error")
        return _error_response(APIError(f"internal error ({type(exc).__name__}); see the server log", status=500,
                                        type_="server_error"))


def _add_guard(app, api_key: str | None, max_body_bytes: int) -> None:
    """The API key (when configured) and the declared body size, checked before any endpoint runs."""
    from fastapi import Request

    @app.middleware("http")
    async def _guard(request: Request, call_next):
        if api_key and request.url.path.startswith("/v1/"):
            if request.headers.get("authorization", "") != f"Bearer {api_key}":
                return _error_response(APIError("Incorrect API key provided", status=401, code="invalid_api_key"))
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > max_body_bytes):
            return _error_response(APIError(f"the request is larger than {max_body_bytes} bytes", status=413,
                                            code="request_too_large"))
        return await call_next(request)


def _add_model_routes(app, api: EmpathAPI) -> None:
    """``/health`` and the model list."""

    @app.get("/health")
    def health():
        return {"status": "ok"}

    @app.get("/v1/models")
    def models():
        return api.models()

    @app.get("/v1/models/{model_id}")
    def model(model_id: str):
        api.persona_of(model_id)
        return api.model_card(model_id)


def _add_chat_route(app, api: EmpathAPI, max_body_bytes: int) -> None:
    """``POST /v1/chat/completions``: one JSON answer, or server-sent events with ``stream: true``."""
    from fastapi import Request
    from fastapi.concurrency import iterate_in_threadpool, run_in_threadpool
    from fastapi.responses import JSONResponse, StreamingResponse

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request):
        raw = b""
        async for piece in request.stream():  # bounded also without a Content-Length (chunked uploads)
            raw += piece
            if len(raw) > max_body_bytes:
                raise APIError(f"the request is larger than {max_body_bytes} bytes", status=413,
                               code="request_too_large")
        try:
            body = json.loads(raw or b"null")
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise APIError(f"the body is not valid JSON: {exc}") from None
        parsed = api.parse(body)
        if not parsed["stream"]:
            return JSONResponse(await run_in_threadpool(api.completion, parsed))
        results = api.run(parsed)
        first = await run_in_threadpool(next, results)  # refusals (400) before the stream starts

        def with_first():
            yield first
            yield from results

        return StreamingResponse(iterate_in_threadpool(api.chunks(parsed, with_first())),
                                 media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


def serve(pipeline: EmpathPipeline, host: str = "127.0.0.1", port: int = 8000, **kwargs) -> None:
    import uvicorn

    uvicorn.run(create_app(pipeline, **kwargs), host=host, port=port, log_level="info")


__all__ = ["APIError", "EmpathAPI", "MODEL_ID", "create_app", "serve"]
