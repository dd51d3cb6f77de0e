"""The Gradio app through gradio_client against a real server started by the test, with a Group MoELoRA adapter
loaded (as the offline default is)."""

import sqlite3

import pytest

pytest.importorskip("gradio_client")

from gradio_client import Client  # noqa: E402

from empath.arena import VoteStore  # noqa: E402
from empath.generation import GenerationError  # noqa: E402

CHAT_DEFAULTS = ("auto", "auto", "auto", 0.7, 0.95, 16, 0.0)


# The message box after an accepted message: cleared when the message was accepted (the first update), then left
# alone so that a message typed while the reply streams is kept; the API's last value says "unchanged".
UNCHANGED = {"__type__": "update"}
CHAT_OUTPUTS = ("history", "box", "persona", "strategy", "experience", "radar", "gates", "gates_caption", "banner",
                "status", "strategy_override")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from empath.safety import SafetyChecker
    from tests._server import app_server

    with app_server(tmp_path_factory.mktemp("votes") / "votes.sqlite", safety_checker=SafetyChecker()) as running:
        yield running


def named(outputs) -> dict:
    """/chat outputs by name."""
    assert len(outputs) == len(CHAT_OUTPUTS)
    return dict(zip(CHAT_OUTPUTS, outputs))


def text_of(message: dict) -> str:
    content = message["content"]
    return content if isinstance(content, str) else " ".join(part.get("text", "") for part in content)


def chat(client, message, role="auto", strategy="auto"):
    return client.predict(message, [], role, strategy, *CHAT_DEFAULTS[2:], api_name="/chat")


def test_chat_shows_reply_persona_strategy_and_experience(server):
    client = Client(server["url"], verbose=False)
    history, box, persona, strategy, experience, radar, gates, status = _unpack(chat(client, "I feel so alone"))
    assert [m["role"] for m in history] == ["user", "assistant"]
    assert text_of(history[1]).startswith("`[Reflection of feelings]`")
    assert "Juliet" in persona and "80%" in persona
    assert "Reflection of feelings" in strategy and "UNIQUE-EXPERIENCE-MARKER" in experience
    assert "used in this reply" in experience
    assert radar is not None and box == UNCHANGED and status == ""


def test_conversation_continues_across_turns_and_override_is_respected(server):
    client = Client(server["url"], verbose=False)
    chat(client, "I feel so alone")
    out = _unpack(client.predict("And I lost my job.", [], "harry_potter", "Question", *CHAT_DEFAULTS[2:],
                                 api_name="/chat"))
    history, persona, strategy = out[0], out[2], out[3]
    assert "Harry Potter" in persona and "chosen by you" in persona
    assert "Question" in strategy and text_of(history[-1]).startswith("`[Question]`")


def test_the_persona_voice_control_reaches_the_reply(server):
    """The Controls' persona-voice slider is the opt-in lexicon bonus: same greedy turn, another reply."""
    client = Client(server["url"], verbose=False)

    def reply(voice):
        out = named(client.predict("I feel so alone", [], "juliet", "Question", "en", 0.0, 0.95, 16, voice,
                                   api_name="/chat"))
        return text_of(out["history"][-1])

    plain = reply(0.0)
    assert plain == reply(0.0)  # greedy: the same turn gives the same reply
    assert reply(8.0) != plain


@pytest.mark.parametrize("bad,expected", [
    ("", "empty"), ("   ", "empty"), ("\x00\x01", "empty"), ("x" * 2001, "limit is 2000"),
])
def test_bad_input_gets_a_clear_message_and_keeps_the_conversation(server, bad, expected):
    client = Client(server["url"], verbose=False)
    first = _unpack(chat(client, "Hello, I am stressed about exams."))
    out = _unpack(client.predict(bad, first[0], *CHAT_DEFAULTS, api_name="/chat"))
    assert expected in out[-1] and out[-1].startswith("⚠️")
    assert out[0] == first[0]  # history untouched
    assert out[1] == bad  # what the user typed is not lost
    after = _unpack(client.predict("Still here.", first[0], *CHAT_DEFAULTS, api_name="/chat"))
    assert len(after[0]) == 4


def test_crisis_message_shows_the_resources_banner(server):
    client = Client(server["url"], verbose=False)
    out = named(chat(client, "I have been saving up my pills and I want to end my life."))
    assert out["banner"].get("visible") is True
    assert "988" in text_of(out["history"][-1]) or "findahelpline" in text_of(out["history"][-1])
    calm = named(chat(client, "Thanks. I will call them."))
    assert calm["banner"].get("visible") is True  # the banner stays up for the rest of the conversation
    fresh = Client(server["url"], verbose=False)
    assert named(chat(fresh, "I had a long day at work."))["banner"].get("visible") is False


def test_crisis_turn_is_a_tagged_safety_reply_varied_on_repeat_and_no_generation_is_claimed(server):
    client = Client(server["url"], verbose=False)
    first = named(chat(client, "I want to kill myself tonight."))
    reply = text_of(first["history"][-1])
    assert reply.startswith("`[Safety reply]`") and "[Question]" not in reply and "[Reflection" not in reply
    assert "crisis turn" in first["strategy"] and "fixed, reviewed safety reply" in first["strategy"]
    assert "No generation happened" in first["gates_caption"] and "adapter" not in first["gates_caption"]
    assert "no generation happened" in str(first["gates"]) and "prompt-only" not in str(first["gates"])
    again = named(client.predict("Nobody would notice if I was gone. I want to end my life.", first["history"],
                                 *CHAT_DEFAULTS, api_name="/chat"))
    assert text_of(again["history"][-1]).startswith("`[Safety reply]`")
    assert text_of(again["history"][-1]) != reply  # a follow-up text, not the identical canned one


def test_a_turn_without_a_generated_reply_does_not_blame_the_adapter(server):
    client = Client(server["url"], verbose=False)
    out = named(client.predict("I can't sleep.", [], "auto", "auto", "zh", *CHAT_DEFAULTS[3:], api_name="/chat"))
    assert "Nothing was generated" in out["gates_caption"] and "No reply was generated" in str(out["gates"])
    assert "prompt-only" not in str(out["gates"])


def test_gate_weights_have_a_caption_with_the_route(server):
    client = Client(server["url"], verbose=False)
    out = named(chat(client, "I feel so alone"))
    assert "Experts are" in out["gates_caption"] and "Route: **Juliet** · **Reflection of feelings**" in \
        out["gates_caption"]
    assert "role experts" in str(out["gates"]) or "role 1" in str(out["gates"])


def test_experience_not_used_is_collapsed_and_similarity_is_centred(server):
    client = Client(server["url"], verbose=False)
    used = named(chat(client, "I feel so alone"))["experience"]
    assert "used in this reply" in used and "emotion match +0.41" in used and "<details>" not in used
    unused = named(chat(client, "I lost my job.", strategy="Question"))["experience"]
    first_line, _, rest = unused.partition("\n")
    assert "retrieved, not used" in first_line and "UNIQUE-EXPERIENCE-MARKER" not in first_line
    assert "<details>" in rest and "UNIQUE-EXPERIENCE-MARKER" in rest  # one click away, folded


def test_strategy_override_applies_to_the_next_reply_only(server):
    client = Client(server["url"], verbose=False)
    first = named(chat(client, "I lost my job.", strategy="Question"))
    assert text_of(first["history"][-1]).startswith("`[Question]`")
    assert first["strategy_override"] == "auto"  # the control is back on Auto after the reply
    second = named(client.predict("It was so sudden.", first["history"], "auto", first["strategy_override"],
                                  *CHAT_DEFAULTS[2:], api_name="/chat"))
    assert text_of(second["history"][-1]).startswith("`[Reflection of feelings]`")
    refused = named(client.predict("", second["history"], "auto", "Question", *CHAT_DEFAULTS[2:], api_name="/chat"))
    assert refused["status"].startswith("⚠️") and refused["strategy_override"] == "Question"  # not used: kept


def test_every_api_output_is_named(server):
    info = Client(server["url"], verbose=False).view_api(return_format="dict", print_info=False)
    for endpoint in ("/chat", "/new_conversation", "/export", "/new_comparison", "/compare", "/vote"):
        labels = [r["label"] for r in info["named_endpoints"][endpoint]["returns"]]
        assert labels and not [label for label in labels if label.startswith("value_")], (endpoint, labels)
    chat_labels = [r["label"] for r in info["named_endpoints"]["/chat"]["returns"]]
    assert chat_labels == ["Conversation", "Your message", "Persona", "Strategy", "Experience", "Emotion",
                           "Gate weights", "Gate weights caption", "Crisis resources", "Status",
                           "Strategy for the next reply (then back to Auto)"]


def test_unknown_persona_lists_valid_ids(server):
    client = Client(server["url"], verbose=False)
    out = _unpack(chat(client, "hello", role="batman"))
    assert "valid ids" in out[-1] and "sun_wukong" in out[-1]


def test_failed_generation_is_reported_and_text_restored(server, monkeypatch):
    client = Client(server["url"], verbose=False)
    generator = server["pipeline"].generator

    def broken(*args, **kwargs):
        raise GenerationError("generation failed: RuntimeError: device lost")
        yield  # pragma: no cover - makes this a generator

    monkeypatch.setattr(generator, "stream", broken)
    out = _unpack(chat(client, "Are you there?"))
    assert "device lost" in out[-1] and out[1] == "Are you there?"
    assert "device lost" in text_of(out[0][-1])


def test_language_zh_with_english_input_on_an_english_only_model_shows_the_notice(server, monkeypatch):
    """Language zh in the controls steers the turn; the loaded (offline-default) model speaks only English, so
    the chat shows the notice instead of a reply, and role, strategy and experience still show."""
    client = Client(server["url"], verbose=False)
    calls = []

    def counted(*args, **kwargs):
        calls.append(args)
        raise AssertionError("no generation may happen for a notice turn")
        yield  # pragma: no cover - makes this a generator

    monkeypatch.setattr(server["pipeline"].generator, "stream", counted)
    out = _unpack(client.predict("I can't sleep and work is crushing me.", [], "auto", "auto", "zh",
                                 *CHAT_DEFAULTS[3:], api_name="/chat"))
    history, box, persona, strategy, experience, status = out[0], out[1], out[2], out[3], out[4], out[-1]
    shown = text_of(history[-1])
    assert calls == [] and shown.startswith("ℹ️") and "`[" not in shown
    assert "can't reply in Chinese" in shown and "SmolLM2-135M-Instruct" in shown and "EMPATH_BASE_MODEL=" in shown
    assert "Juliet" in persona and "Reflection of feelings" in strategy and "UNIQUE-EXPERIENCE-MARKER" in experience
    assert box == UNCHANGED and status == ""
    chinese = _unpack(client.predict("我最近总是失眠", [], *CHAT_DEFAULTS, api_name="/chat"))
    assert "中文" in text_of(chinese[0][-1]) and calls == []


def test_compare_vote_is_persisted_and_names_revealed(server):
    client = Client(server["url"], verbose=False)
    client.predict("Empath", "Base model", api_name="/new_comparison")
    hist_a, hist_b, box, status = client.predict("I can't sleep at night.", [], [], "Empath", "Base model",
                                                 api_name="/compare")
    assert len(hist_a) == 2 and len(hist_b) == 2 and box == UNCHANGED and status == ""
    for reply in (text_of(hist_a[1]), text_of(hist_b[1])):  # the base model answers with the adapter loaded
        assert reply.strip() and reply != "…" and not reply.startswith("⚠️"), reply
        assert not reply.startswith("`[")  # blind: no strategy tag on either side before the vote
    reveal, board, *_ = client.predict("A", "A", "Tie", "A", "B", api_name="/vote")
    assert "Model A** was *Empath*" in reveal and "Base model" in reveal
    assert "Reflection of feelings" in reveal  # after the vote the strategies may be revealed
    columns = board["headers"]
    empath_row = dict(zip(columns, board["data"][0]))
    assert (empath_row["comparisons"], empath_row["criterion_votes"]) == (1, 5)
    with sqlite3.connect(server["db"]) as conn:
        rows = conn.execute("SELECT system_a, system_b, criterion, choice, comparison FROM votes").fetchall()
    assert len(rows) == 5 and rows[0][:2] == ("Empath", "Base model")
    assert "I can't sleep at night." in rows[0][4]
    systems = [row[0] for row in board["data"]]
    assert systems[0] == "Empath"


@pytest.mark.parametrize("system", ["Base model", "Empath w/o adapter (prompt-only)"])
def test_systems_without_the_adapter_answer_in_compare(server, system):
    import torch

    client = Client(server["url"], verbose=False)
    client.predict("Empath", system, api_name="/new_comparison")
    # the app samples, and the random-weight test model's samples may be in any script (cleaned away as another
    # language): a fixed seed makes the check repeatable; the server runs in this process and shares the generator
    torch.manual_seed(0)
    _, hist_b, _, _ = client.predict("I feel lost lately.", [], [], "Empath", system, api_name="/compare")
    assert not text_of(hist_b[-1]).startswith("⚠️") and text_of(hist_b[-1]) not in ("", "…")


def test_a_generation_error_in_compare_shows_in_that_panel(server, monkeypatch):
    client = Client(server["url"], verbose=False)

    def broken(*args, **kwargs):
        raise RuntimeError("device lost")
        yield  # pragma: no cover - makes this a generator

    monkeypatch.setattr(server["pipeline"].generator, "stream", broken)
    client.predict("Empath", "Base model", api_name="/new_comparison")
    hist_a, hist_b, _, _ = client.predict("Hello?", [], [], "Empath", "Base model", api_name="/compare")
    for hist in (hist_a, hist_b):
        assert text_of(hist[-1]).startswith("⚠️") and "device lost" in text_of(hist[-1])


def test_other_models_join_the_comparison(tmp_path):
    from app import comparison_systems
    from tests.test_pipeline import make_pipeline

    pipe, _ = make_pipeline()
    systems = comparison_systems(pipe, ["org/another-model@v1"])
    other_pipeline, components = systems["Other model: org/another-model@v1"]
    assert other_pipeline.config.base_model == "org/another-model@v1" and components.adapter is False
    assert systems["Empath"][0] is pipe and "Base model" in systems


def test_vote_without_messages_stores_nothing(server):
    client = Client(server["url"], verbose=False)
    before = VoteStore(server["db"]).count()
    client.predict("Empath", "Base model", api_name="/new_comparison")
    reveal, *_ = client.predict("A", "A", "A", "A", "A", api_name="/vote")
    assert VoteStore(server["db"]).count() == before


def _turns(*responses, error=None):
    """A stand-in for ``pipeline.stream``: the reply growing through ``responses``, the last one with ``error``."""
    from empath.pipeline import TurnResult

    result = TurnResult(message="Hello", lang="en")
    for i, response in enumerate(responses):
        result.response = response
        result.error = error if i == len(responses) - 1 else None
        yield result


def _broken_after(*responses):
    yield from _turns(*responses)
    raise RuntimeError("connection reset")


def test_stream_reply_grows_the_history_and_marks_the_stages():
    from empath.ui.streaming import FINAL, FIRST, STREAMING, stream_reply

    earlier = [{"role": "user", "content": "x"}]
    steps = list(stream_reply(lambda: _turns("I", "I hear", "I hear you."), "Hello", earlier))
    assert [s.stage for s in steps] == [FIRST, STREAMING, STREAMING, FINAL]
    assert [m["content"] for m in steps[-1].history] == ["x", "Hello", "I hear you."] and steps[-1].problem == ""


def test_stream_reply_refuses_bad_input_and_keeps_the_history():
    from empath.pipeline import InputError
    from empath.ui.streaming import REFUSED, stream_reply

    def refuse():
        raise InputError("the message is empty")

    with pytest.warns(UserWarning):  # gr.Warning outside a request
        steps = list(stream_reply(refuse, "", [{"role": "user", "content": "x"}]))
    assert [(s.stage, s.problem) for s in steps] == [(REFUSED, "⚠️ the message is empty")]
    assert steps[0].history == [{"role": "user", "content": "x"}] and steps[0].result is None


def test_stream_reply_marks_a_failed_reply_and_contains_failures_only_when_asked():
    from empath.ui.streaming import FINAL, stream_reply

    failed = list(stream_reply(lambda: _turns("Sor", "Sorry", error="device lost"), "Hello", []))[-1]
    assert failed.stage == FINAL and failed.problem == "⚠️ device lost"
    assert failed.history[-1]["content"] == "⚠️ device lost"
    contained = list(stream_reply(lambda: _broken_after("Hi"), "Hello", [], contain_failures=True))[-1]
    assert contained.history[-1]["content"] == "⚠️ generation failed: RuntimeError: connection reset"
    with pytest.raises(RuntimeError, match="connection reset"):
        list(stream_reply(lambda: _broken_after("Hi"), "Hello", []))


def _unpack(outputs):
    """chat outputs -> (history, textbox, persona, strategy, experience, radar, gates, status)."""
    out = named(outputs)
    return tuple(out[k] for k in ("history", "box", "persona", "strategy", "experience", "radar", "gates", "status"))
