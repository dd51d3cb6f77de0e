"""The OpenAI-compatible generation backend (issue 12, item 3) against a fake server started by the test."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from empath.generation import GenerationError, SamplingSettings
from empath.comparison import SYSTEMS, systems_for
from empath.pipeline import Components, Conversation, PipelineConfig
from empath.remote import OpenAIGenerator, RemoteConfigError, RemoteSettings, route_model_name, strategy_slug
from tests._fake_openai import FakeOpenAI
from tests.test_pipeline import make_pipeline

QUICK = SamplingSettings(temperature=0.7, max_new_tokens=32, seed=0)  # sampling: top_p and seed are sent
ENV = ("EMPATH_LLM_BASE_URL", "EMPATH_LLM_MODEL", "EMPATH_LLM_API_KEY", "OPENAI_API_KEY", "EMPATH_LLM_ROUTES",
       "EMPATH_LLM_TIMEOUT", "EMPATH_LLM_RETRIES", "EMPATH_LLM_STREAM", "EMPATH_GENERATOR", "EMPATH_BASE_MODEL",
       "EMPATH_ADAPTER")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


def remote(url, model="base-model", **kw):
    kw.setdefault("backoff", 0.01)
    return OpenAIGenerator(RemoteSettings(base_url=url, model=model, **kw))


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"  # nothing listens there once the socket is closed


@pytest.mark.parametrize("stream", [True, False])
def test_reply_comes_from_the_server_and_every_empath_stage_still_runs(stream):
    with FakeOpenAI() as server:
        pipe, parts = make_pipeline(generator=remote(server.url, stream=stream))
        conv = Conversation()
        seen = []
        for result in pipe.stream(conv, "My boyfriend left me and I can't stop crying.", settings=QUICK):
            seen.append(result.response)
    assert result.error is None and result.response == "I hear you. That sounds really hard."
    if stream:  # the reply grew piece by piece
        assert len(set(seen)) > 2
    assert result.role == "juliet" and result.strategy == "Reflection of feelings"
    assert all(parts[k].calls for k in ("role_matcher", "strategy_predictor", "experience_bank", "safety_checker"))
    request = server.requests[-1]
    assert request["model"] == "base-model" and bool(request.get("stream")) is stream
    assert request["max_tokens"] == 32 and request["seed"] == 0 and request["temperature"] == 0.7
    system = request["messages"][0]
    assert system["role"] == "system" and "Juliet" in system["content"]  # prompt mode: the route is in the prompt
    assert "UNIQUE-EXPERIENCE-MARKER" in system["content"]
    assert "repetition_penalty" not in request and "top_k" not in request  # plain OpenAI would refuse them
    assert result.gate_weights is None  # prompt mode: no adapter, no gates
    assert [t.speaker for t in conv.turns] == ["seeker", "supporter"]


def test_several_candidates_on_a_server_stream_its_one_reply():
    """Drafting several replies is a local-model option: with a server the turn streams its one reply as usual."""
    from dataclasses import replace

    with FakeOpenAI() as server:
        pipe, _ = make_pipeline(generator=remote(server.url))
        result = pipe.respond(Conversation(), "My boyfriend left me.", settings=replace(QUICK, candidates=3))
        assert result.error is None and result.response == "I hear you. That sounds really hard."
        assert len(server.requests) == 1 and "n" not in server.requests[-1]


def test_lora_mode_asks_for_the_route_by_name():
    routes = ["juliet--reflection-of-feelings", "juliet--uniform"]
    with FakeOpenAI(models=["base-model", *routes]) as server:
        pipe, _ = make_pipeline(generator=remote(server.url, routes="lora"))
        assert pipe.has_adapter and "Empath w/o adapter (prompt-only)" in systems_for(pipe)
        first = pipe.respond(Conversation(), "I feel so alone since the breakup.", settings=QUICK)
        second = pipe.respond(Conversation(), "I feel so alone since the breakup.", settings=QUICK,
                              components=Components(strategy_prediction=False))
        third = pipe.respond(Conversation(), "I feel so alone since the breakup.", settings=QUICK,
                             components=SYSTEMS["Base model"])
    assert [r.error for r in (first, second, third)] == [None, None, None]
    assert [r["model"] for r in server.requests] == routes + ["base-model"]
    assert server.requests[0]["repetition_penalty"] == pytest.approx(1.1)  # vLLM reads it
    assert server.requests[0]["top_k"] == QUICK.top_k  # and the app's top-k cut


def test_server_down_gives_a_clear_error_and_keeps_the_conversation():
    pipe, _ = make_pipeline(generator=remote(closed_port_url(), retries=2))
    conv = Conversation()
    result = pipe.respond(conv, "I lost my job.", settings=QUICK)
    assert "cannot be reached (3 attempts)" in result.error and "conversation is kept" in result.error
    assert conv.turns == []  # nothing recorded: the message can simply be sent again
    assert result.role == "juliet"  # the turn's decisions were still made


def test_slow_server_times_out_with_retries():
    with FakeOpenAI(delay=1.0) as server:
        generator = remote(server.url, timeout=0.3, retries=1)
        with pytest.raises(GenerationError, match=r"did not answer within 0.3 s \(2 attempts\)"):
            "".join(generator.stream([{"role": "user", "content": "hi"}], QUICK))
        assert len(server.requests) == 2


def test_a_failing_server_is_retried_with_backoff():
    with FakeOpenAI() as server:
        server.fail_next = 2
        text = "".join(remote(server.url, retries=2).stream([{"role": "user", "content": "hi"}], QUICK))
        assert text.startswith("I hear you") and len(server.requests) == 3
        server.fail_next = 5
        with pytest.raises(GenerationError, match="failed"):
            "".join(remote(server.url, retries=1).stream([{"role": "user", "content": "hi"}], QUICK))


def test_wrong_model_name_lists_what_the_server_has():
    with FakeOpenAI(models=["base-model"]) as server:
        with pytest.raises(GenerationError, match=r"has no model 'nope' \(404\)\. It serves: base-model"):
            "".join(remote(server.url, model="nope").stream([{"role": "user", "content": "hi"}], QUICK))
        assert len(server.requests) == 1  # a 404 is not retried
        lora = remote(server.url, routes="lora")
        with pytest.raises(GenerationError, match="export-routes"):
            "".join(lora.stream([{"role": "user", "content": "hi"}], QUICK, {"role": "juliet", "strategy": "Question"}))


def test_wrong_api_key_and_empty_reply():
    with FakeOpenAI(api_key="secret", reply="") as server:
        with pytest.raises(GenerationError, match="refused the API key"):
            "".join(remote(server.url, api_key="wrong").stream([{"role": "user", "content": "hi"}], QUICK))
        pipe, _ = make_pipeline(generator=remote(server.url, api_key="secret"))
        result = pipe.respond(Conversation(), "I can't sleep.", settings=QUICK)
    assert result.error == "the model returned an empty reply; please try again"


def test_environment_switches_generation_to_the_server(monkeypatch):
    with FakeOpenAI(models=["served-model"]) as server:
        monkeypatch.setenv("EMPATH_LLM_BASE_URL", server.url)
        monkeypatch.setenv("EMPATH_LLM_MODEL", "served-model")
        config = PipelineConfig.from_env()
        assert config.base_model == "openai:served-model" and config.adapter is None
        pipe, _ = make_pipeline(generator=None)
        pipe.config = config
        assert isinstance(pipe.generator, OpenAIGenerator) and not pipe.has_adapter
        assert pipe.respond(Conversation(), "I can't sleep.", settings=QUICK).response.startswith("I hear you")
        monkeypatch.setenv("EMPATH_GENERATOR", "local")  # the LLM settings then serve only the emotion scorer
        assert PipelineConfig.from_env().base_model is None
        monkeypatch.setenv("EMPATH_GENERATOR", "auto")
        monkeypatch.setenv("EMPATH_LLM_ROUTES", "bogus")
        with pytest.raises(RemoteConfigError, match="EMPATH_LLM_ROUTES"):
            OpenAIGenerator.from_ref("openai:served-model")


def test_compare_can_put_a_server_beside_the_local_model():
    from app import comparison_systems

    with FakeOpenAI(models=["other-llm"], reply="Other model here.") as server:
        pipe, _ = make_pipeline()
        systems = comparison_systems(pipe, [f"openai:other-llm@{server.url}"])
        other, components = systems[f"Other model: openai:other-llm@{server.url}"]
        result = other.respond(Conversation(), "Work is crushing me.", components=components, settings=QUICK)
    assert result.response == "Other model here." and result.role == "juliet"
    assert server.requests[0]["model"] == "other-llm"


def test_gate_weights_from_the_adapter_file_match_the_loaded_adapter(tmp_path):
    from empath.remote import AdapterGates
    from tests._tiny import tiny_adapter_generator

    model = tiny_adapter_generator().model
    model.save_pretrained(tmp_path)
    got = AdapterGates(tmp_path).gate_weights("juliet", "Question")
    expected = model.gate_weights("juliet", "Question")
    for group in ("role", "strategy"):
        np.testing.assert_allclose(got[group], expected[group], atol=1e-6)
    uniform = AdapterGates(tmp_path).gate_weights("juliet", [1 / 8] * 8)
    assert uniform["strategy"].sum() == pytest.approx(1.0)
    # the generator's own entry point, with a typed Route or a dict; the LoRA name follows the route too
    from empath.group_moelora import Route

    generator = OpenAIGenerator(RemoteSettings(base_url="http://127.0.0.1:1/v1", model="m", routes="lora"),
                                adapter=tmp_path)
    typed = generator.gate_weights(Route("juliet", "Question"))
    np.testing.assert_allclose(typed["role"], expected["role"], atol=1e-6)
    assert generator.gate_weights(None) == {}
    assert generator.model_for(Route("juliet", "Question")) == generator.model_for(
        {"role": "juliet", "strategy": "Question"}) == "juliet--question"


def test_route_names_and_languages():
    from empath.languages import languages_for

    assert strategy_slug("Reflection of feelings") == "reflection-of-feelings"
    assert strategy_slug("[Affirmation and Reassurance]") == "affirmation-and-reassurance"
    assert strategy_slug([0.125] * 8) == "uniform"
    assert route_model_name("harry_potter", "Self-disclosure") == "harry_potter--self-disclosure"
    assert languages_for("openai:Qwen/Qwen2.5-7B-Instruct") == ("en", "zh")
    assert languages_for("openai:gpt-4o-mini@http://127.0.0.1:1/v1") is None  # unknown: any
