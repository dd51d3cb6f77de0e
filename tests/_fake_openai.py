"""A small fake OpenAI-compatible chat server on 127.0.0.1 (what vLLM / llama.cpp / Ollama answer), for tests.

``FakeOpenAI(models=[...], reply="...")`` serves ``GET /v1/models`` and ``POST /v1/chat/completions`` (streamed as
SSE or whole); ``delay`` makes it slow, ``fail_next`` answers that many requests with 500, ``reply=""`` sends an
empty reply, an unknown model gets OpenAI's 404. Every request body is kept in ``requests``.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeOpenAI:
    def __init__(self, models=("base-model",), reply="I hear you. That sounds really hard.", delay: float = 0.0,
                 api_key: str | None = None):
        self.models = list(models)
        self.reply = reply
        self.delay = delay
        self.api_key = api_key
        self.fail_next = 0
        self.requests: list[dict] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> "FakeOpenAI":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _json(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorised(self) -> bool:
                if fake.api_key and self.headers.get("Authorization") != f"Bearer {fake.api_key}":
                    self._json(401, {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error",
                                               "code": "invalid_api_key"}})
                    return False
                return True

            def do_GET(self):
                if not self._authorised():
                    return
                if self.path.rstrip("/") == "/v1/models":
                    self._json(200, {"object": "list", "data": [{"id": m, "object": "model", "created": 0,
                                                                 "owned_by": "fake"} for m in fake.models]})
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                fake.requests.append(body)
                if not self._authorised():
                    return
                if fake.delay:
                    time.sleep(fake.delay)
                if fake.fail_next > 0:
                    fake.fail_next -= 1
                    self._json(500, {"error": {"message": "internal error", "type": "server_error"}})
                    return
                model = body.get("model")
                if model not in fake.models:
                    self._json(404, {"error": {"message": f"The model `{model}` does not exist.",
                                               "type": "invalid_request_error", "code": "model_not_found"}})
                    return
                words = fake.reply.split(" ") if fake.reply else []
                pieces = [w if i == 0 else " " + w for i, w in enumerate(words)]
                if body.get("stream"):
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.end_headers()
                    for piece in [""] + pieces:  # a role-only first chunk, as OpenAI sends
                        delta = {"content": piece} if piece else {"role": "assistant"}
                        self._event({"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": model,
                                     "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
                    self._event({"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": model,
                                 "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
                    self.wfile.write(b"data: [DONE]\n\n")
                    self.wfile.flush()
                    return
                self._json(200, {"id": "c1", "object": "chat.completion", "created": 0, "model": model,
                                 "choices": [{"index": 0, "finish_reason": "stop",
                                              "message": {"role": "assistant", "content": fake.reply}}],
                                 "usage": {"prompt_tokens": 1, "completion_tokens": len(words), "total_tokens": 1 + len(words)}})

            def _event(self, payload: dict) -> None:
                self.wfile.write(b"data: " + json.dumps(payload).encode() + b"\n\n")
                self.wfile.flush()

        return Handler
