"""``python -m empath serve`` (issue 12, item 4): the OpenAI-compatible API, driven by the official openai client
against a server the test starts over the tiny test pipeline (with a tiny Group MoELoRA adapter)."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from types import SimpleNamespace

import httpx
import openai
import pytest

from empath.server import create_app
from tests._tiny import tiny_adapter_generator
from tests.test_pipeline import FakeSafety, make_pipeline

CRISIS_MARKER = "END-IT-ALL"


class CrisisSafety(FakeSafety):
    def check(self, text, lang=None, **kwargs):
        self.calls.append(text)
        crisis = CRISIS_MARKER in text
        return SimpleNamespace(crisis=crisis, category="suicide" if crisis else None, matched=[], lang=lang or "en",
                               to_dict=lambda: {"crisis": crisis})

    def crisis_reply(self, result, role=None, lang="en", variant=0, message=None, situation=None):
        return f"FIXED-SAFETY-REPLY-{variant}"

    def reply_situation(self, result, lang="en", variant=0, message=None, continuing=None):
        return None


@contextmanager
def api_server(pipeline, **kwargs):
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(create_app(pipeline, **kwargs), host="127.0.0.1", port=0,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started:
        assert time.time() < deadline and thread.is_alive(), "the API server did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="module")
def served():
    pipe, parts = make_pipeline(generator=tiny_adapter_generator(), safety_checker=CrisisSafety())
    with api_server(pipe, max_tokens_limit=64) as url:
        client = openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0, timeout=60)
        yield SimpleNamespace(url=url, client=client, pipe=pipe, parts=parts)


USER = [{"role": "user", "content": "My boyfriend left me and I can't stop crying."}]


def test_models(served):
    ids = [m.id for m in served.client.models.list()]
    assert ids[0] == "empath" and "empath:juliet" in ids and len(ids) == 1 + len(served.pipe.roles.ids)
    assert served.client.models.retrieve("empath:juliet").id == "empath:juliet"


def test_completion_carries_the_reply_and_empaths_decisions(served):
    reply = served.client.chat.completions.create(model="empath", messages=USER, max_tokens=8, seed=0)
    assert reply.choices[0].message.content and reply.choices[0].message.role == "assistant"
    info = reply.model_extra["empath"]
    assert info["role"] == "juliet" and info["role_name"] == "Juliet" and info["strategy"] == "Reflection of feelings"
    assert info["experience"]["id"] == "juliet-007" and info["crisis"] is False
    assert info["gate_weights"]["role"]  # the adapter routed this reply
    assert reply.usage.completion_tokens >= 1 and reply.usage.prompt_tokens > 10


def test_streaming_matches_the_final_reply(served):
    stream = served.client.chat.completions.create(model="empath", messages=USER, max_tokens=8, seed=0, stream=True)
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert chunks[0].model_extra["empath"]["role"] == "juliet"  # decisions arrive before the text
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert text and chunks[-1].model_extra["empath"]["content"] == text


def test_persona_pinned_by_model_name_and_conversation_from_messages(served):
    predictor = served.parts["strategy_predictor"]
    messages = [{"role": "system", "content": "ignored: Empath writes its own system prompt"},
                {"role": "user", "content": "I failed my exam."},
                {"role": "assistant", "content": "That must hurt. What happened?"},
                {"role": "user", "content": [{"type": "text", "text": "I studied all week and still failed."}]}]
    reply = served.client.chat.completions.create(model="empath:Harry Potter", messages=messages, max_tokens=4)
    info = reply.model_extra["empath"]
    assert info["role"] == "harry_potter" and info["role_source"] == "override"
    assert predictor.calls[-1] == ["I failed my exam.", "That must hurt. What happened?",
                                   "I studied all week and still failed."]
    overridden = served.client.chat.completions.create(model="empath", messages=USER, max_tokens=4,
                                                       extra_body={"empath": {"strategy": "Question"}})
    assert overridden.model_extra["empath"]["strategy"] == "Question"


def test_a_conversation_that_opened_with_a_greeting_is_matched_on_the_seekers_topic(served):
    """Rebuilt from its messages, the conversation holds what the app would: the persona is matched on the seeker's
    words up to the first that named a topic, not on "hi"."""
    matcher = served.parts["role_matcher"]
    messages = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hello! How are you?"},
                {"role": "user", "content": "My dog died yesterday."}]
    info = served.client.chat.completions.create(model="empath", messages=messages, max_tokens=4).model_extra["empath"]
    assert info["role_source"] == "matched" and matcher.calls[-1] == "hi\nMy dog died yesterday."
    messages += [{"role": "assistant", "content": "I am so sorry."}, {"role": "user", "content": "thanks"}]
    served.client.chat.completions.create(model="empath", messages=messages, max_tokens=4)
    assert matcher.calls[-1] == "hi\nMy dog died yesterday."  # settled: later turns do not join the background


def test_crisis_turn_gets_the_fixed_reply_streamed_or_not(served):
    crisis = [{"role": "user", "content": f"I want to {CRISIS_MARKER} tonight."}]
    reply = served.client.chat.completions.create(model="empath", messages=crisis)
    assert reply.choices[0].message.content == "FIXED-SAFETY-REPLY-0"
    assert reply.model_extra["empath"]["crisis"] is True and reply.model_extra["empath"]["strategy"] is None
    later = crisis + [{"role": "assistant", "content": "FIXED-SAFETY-REPLY-0"},
                      {"role": "user", "content": f"I still want to {CRISIS_MARKER}."}]
    chunks = list(served.client.chat.completions.create(model="empath", messages=later, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "FIXED-SAFETY-REPLY-1"
    assert chunks[-1].model_extra["empath"]["crisis_mode"] is True
    calm = later + [{"role": "assistant", "content": "FIXED-SAFETY-REPLY-1"}, {"role": "user", "content": "ok."}]
    after = served.client.chat.completions.create(model="empath", messages=calm, max_tokens=4)
    assert after.model_extra["empath"]["crisis"] is False and after.model_extra["empath"]["crisis_mode"] is True


@pytest.mark.parametrize("kwargs,match", [
    ({"model": "gpt-4", "messages": USER}, "does not exist"),
    ({"model": "empath:nobody", "messages": USER}, "unknown persona"),
    ({"model": "empath", "messages": []}, "non-empty"),
    ({"model": "empath", "messages": [{"role": "assistant", "content": "hi"}]}, "last message must be the user"),
    ({"model": "empath", "messages": [{"role": "user", "content": "   "}]}, "empty"),
    ({"model": "empath", "messages": [{"role": "user", "content": "x" * 2001}]}, "limit is 2000"),
    ({"model": "empath", "messages": USER, "max_tokens": 65}, r"max_tokens must be an integer in \[1, 64\]"),
    ({"model": "empath", "messages": USER, "temperature": 3}, "temperature"),
    ({"model": "empath", "messages": USER, "extra_body": {"top_k": 2.5}}, "top_k"),
    ({"model": "empath", "messages": USER, "n": 2}, "n must be 1"),
    ({"model": "empath", "messages": [{"role": "user", "content": [{"type": "image_url"}]}]}, "text content"),
    ({"model": "empath", "messages": [{"role": "wizard", "content": "hi"}]}, "needs a role"),
])
def test_bad_requests_get_openai_style_errors(served, kwargs, match):
    with pytest.raises(openai.APIStatusError, match=match) as info:
        served.client.chat.completions.create(**kwargs)
    assert info.value.status_code in (400, 404)
    assert "Traceback" not in info.value.response.text
    assert set(info.value.response.json()["error"]) == {"message", "type", "param", "code"}


def test_raw_http_errors_are_json_too(served):
    bad_json = httpx.post(served.url + "/v1/chat/completions", content=b"{not json", timeout=30)
    assert bad_json.status_code == 400 and "not valid JSON" in bad_json.json()["error"]["message"]
    too_big = httpx.post(served.url + "/v1/chat/completions", content=b"x" * (300 * 1024), timeout=30)
    assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "request_too_large"
    missing = httpx.get(served.url + "/v1/nothing", timeout=30)
    assert missing.status_code == 404 and "error" in missing.json()
    wrong_method = httpx.get(served.url + "/v1/chat/completions", timeout=30)
    assert wrong_method.status_code == 405 and "error" in wrong_method.json()


def test_concurrent_clients_are_all_answered(served):
    results, errors = [], []

    def ask(i):
        try:
            reply = served.client.chat.completions.create(
                model="empath", messages=[{"role": "user", "content": f"I feel lonely, day {i}."}], max_tokens=4,
                stream=bool(i % 2))
            results.append(reply if not i % 2 else list(reply))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == [] and len(results) == 8


def test_generation_failure_is_a_502_or_an_error_event():
    from empath.generation import ChatGenerator
    from tests._tiny import ExplodingModel, smollm_tokenizer

    pipe, _ = make_pipeline(generator=ChatGenerator(ExplodingModel(), smollm_tokenizer()))
    with api_server(pipe) as url:
        client = openai.OpenAI(base_url=url + "/v1", api_key="x", max_retries=0)
        with pytest.raises(openai.APIStatusError, match="out of memory") as info:
            client.chat.completions.create(model="empath", messages=USER)
        assert info.value.status_code == 502
        with pytest.raises(openai.APIError, match="out of memory"):
            list(client.chat.completions.create(model="empath", messages=USER, stream=True))


def test_api_key_when_configured():
    pipe, _ = make_pipeline()
    with api_server(pipe, api_key="s3cret") as url:
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=url + "/v1", api_key="wrong", max_retries=0).models.list()
        ok = openai.OpenAI(base_url=url + "/v1", api_key="s3cret", max_retries=0)
        assert ok.models.list().data[0].id == "empath"
        assert httpx.get(url + "/health").json() == {"status": "ok"}


def test_cli_parses_serve():
    from empath.__main__ import build_parser

    args = build_parser().parse_args(["serve", "--host", "0.0.0.0", "--port", "9001"])
    assert (args.host, args.port, args.max_tokens_limit) == ("0.0.0.0", 9001, 1024)
