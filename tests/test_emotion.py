"""Emotion scorers: vector shape/range, the default head's behaviour, and LLM reply parsing/retries."""

import json
import types

import numpy as np
import pytest

from empath.emotion import (DEFAULT_HEAD_FILE, EMOTION_DIMS, EmotionParseError, EmotionScoringError, EncoderEmotionScorer,
                            LLMEmotionScorer, emotion_dict, emotion_vector, get_emotion_scorer, load_head,
                            openai_chat, parse_emotion_reply, probabilities_to_scores, save_head)

GOOD_SCORES = dict(zip(EMOTION_DIMS, [2, 3, 4, 2, 7, 3, 9, 5]))
GOOD_VECTOR = np.array([2, 3, 4, 2, 7, 3, 9, 5], dtype=np.float32)
FIGURE9_REPLY = json.dumps([{"analysis": f"reason for {d}", "dim": d, "score": s} for d, s in GOOD_SCORES.items()])


def check_vector(v):
    assert v.shape == (8,) and v.dtype == np.float32
    assert np.all(v >= 1.0) and np.all(v <= 10.0)


# -- the packaged default scorer ----------------------------------------------------------------
@pytest.fixture(scope="module")
def default_scorer():
    return get_emotion_scorer("default")


@pytest.mark.parametrize("text, expected", [
    ("My exam is next week and I keep panicking that I will fail and lose my scholarship.", "fear"),
    ("Since my father passed away I cry every night and feel empty inside.", "sadness"),
    ("My roommate stole my money and lied to my face, I am so furious I could scream.", "anger"),
    ("考试马上就要到了，我紧张得整夜睡不着，总怕自己会考砸。", "fear"),
    ("和她分手以后我每天都很难过，心里空空的，一个人的时候总是哭。", "sadness"),
    ("同事把我的功劳据为己有，还在老板面前说我坏话，我气得要命。", "anger"),
    ("We just had our first baby and I have never been this happy in my life!", "joy"),
])
def test_default_scorer_strongest_dimension(default_scorer, text, expected):
    v = default_scorer.score(text)
    check_vector(v)
    assert EMOTION_DIMS[int(v.argmax())] == expected, dict(zip(EMOTION_DIMS, v.round(1)))
    assert v.max() == pytest.approx(10.0)


def test_default_scorer_batch_matches_single_and_empty_text(default_scorer):
    texts = ["I feel lonely since I moved to a new city.", "", "   ", "我很担心父母的身体。"]
    batch = default_scorer.score_batch(texts)
    assert batch.shape == (4, 8) and batch.dtype == np.float32
    np.testing.assert_allclose(batch[0], default_scorer.score(texts[0]), rtol=1e-5)
    np.testing.assert_allclose(batch[3], default_scorer.score(texts[3]), rtol=1e-5)
    assert np.all(batch[1] == 1.0) and np.all(batch[2] == 1.0)  # no text, no emotion
    with pytest.raises(TypeError):
        default_scorer.score_batch("one string, not a list")


def test_prototype_scorer_and_factory_errors():
    v = get_emotion_scorer("prototype").score("I am terrified of the dark and scared something will happen.")
    check_vector(v)
    assert EMOTION_DIMS[int(v.argmax())] == "fear"
    with pytest.raises(ValueError, match="default, prototype, llm"):
        get_emotion_scorer("no-such-scorer")


def test_packaged_head_metadata():
    tensors, meta = load_head(DEFAULT_HEAD_FILE)
    assert meta["encoder"] == "use-multilingual" and meta["trained_on"] == "train.jsonl"
    assert tensors["head.weight"].shape == (8, 512) and tensors["prototypes"].shape == (8, 512)


# -- encoder head maths with a fake encoder ------------------------------------------------------
class FakeEncoder:
    name, dim = "fake", 8

    def encode(self, texts):
        # text "dim:<i>" -> one-hot on dimension i
        out = np.zeros((len(texts), 8), np.float32)
        for row, text in enumerate(texts):
            out[row, int(text.split(":")[1])] = 1.0
        return out


def test_encoder_head_maths_and_file_roundtrip(tmp_path):
    weight = np.eye(8, dtype=np.float32) * 3.0
    scorer = EncoderEmotionScorer(FakeEncoder(), weight, np.zeros(8))
    v = scorer.score("dim:6")
    p = np.full(8, 1.0)
    p[6] = np.exp(3.0)
    np.testing.assert_allclose(v, probabilities_to_scores(p / p.sum()), rtol=1e-6)
    assert int(v.argmax()) == 6 and v[6] == 10.0 and v[0] == pytest.approx(1 + 9 / np.exp(3.0), rel=1e-5)

    path = save_head(tmp_path / "head.safetensors", weight, np.zeros(8), np.eye(8), {"encoder": "fake"})
    loaded = EncoderEmotionScorer.from_file(path)
    loaded._encoder = FakeEncoder()
    np.testing.assert_allclose(loaded.score("dim:6"), v)
    with pytest.raises(ValueError, match=r"shape \[8, dim\]"):
        EncoderEmotionScorer(FakeEncoder(), np.zeros((4, 8)))


def test_vector_helpers():
    np.testing.assert_array_equal(emotion_vector(GOOD_SCORES), GOOD_VECTOR)
    assert emotion_dict(GOOD_VECTOR + 0.4, decimals=0) == GOOD_SCORES
    with pytest.raises(KeyError, match="anticipation"):
        emotion_vector({d: 1 for d in EMOTION_DIMS[:-1]})
    scores = probabilities_to_scores(np.array([[0.5, 0.25, 0.25, 0, 0, 0, 0, 0]]))
    np.testing.assert_allclose(scores[0, :3], [10.0, 5.5, 5.5])
    assert scores.min() == 1.0


# -- LLM reply parsing ----------------------------------------------------------------------------
@pytest.mark.parametrize("reply", [
    FIGURE9_REPLY,
    "Sure! Here is the analysis:\n```json\n" + FIGURE9_REPLY + "\n```\nHope this helps.",
    "<think>the seeker sounds angry</think>" + FIGURE9_REPLY,
    FIGURE9_REPLY.replace("{", "{{").replace("}", "}}"),  # copied the prompt's doubled braces
    FIGURE9_REPLY.replace('"', "'"),  # a Python literal
    FIGURE9_REPLY[:-1] + ",]",  # trailing comma
    json.dumps(GOOD_SCORES),
    json.dumps({"emotion_embedding": GOOD_SCORES}),
    '"emotion_embedding": [joy: 2, acceptance: 3, fear: 4, surprise: 2, sadness: 7, disgust: 3, anger: 9, anticipation: 5]',
    json.dumps([2, 3, 4, 2, 7, 3, 9, 5]),
    "喜悦：2，接纳：3，恐惧：4，惊讶：2，悲伤：7，厌恶：3，愤怒：9，期待：5",
    json.dumps([{"dim": d.upper(), "score": str(s)} for d, s in GOOD_SCORES.items()]),
    # broken JSON (unterminated) still holds every dim/score pair
    FIGURE9_REPLY[:-2],
    # score written before dim
    ", ".join('{"score": %d, "dim": "%s"}' % (s, d) for d, s in GOOD_SCORES.items()),
])
def test_parse_good_replies(reply):
    np.testing.assert_array_equal(parse_emotion_reply(reply), GOOD_VECTOR)


def test_parse_clips_scores_and_keeps_first_duplicate():
    items = [{"dim": d, "score": s} for d, s in GOOD_SCORES.items()]
    items[0]["score"] = 0
    items[6]["score"] = 15
    items.append({"dim": "sadness", "score": 1})  # the paper's own example repeats a dimension
    v = parse_emotion_reply(json.dumps(items))
    assert v[0] == 1.0 and v[6] == 10.0 and v[4] == 7.0


@pytest.mark.parametrize("reply, message", [
    ("I cannot help with that.", "no emotion scores"),
    ("", "no emotion scores"),
    (json.dumps({"joy": "high", "fear": None}), "no emotion scores"),
])
def test_parse_malformed_replies(reply, message):
    with pytest.raises(EmotionParseError, match=message):
        parse_emotion_reply(reply)


def test_parse_partial_reply():
    partial = json.dumps([{"dim": d, "score": s} for d, s in list(GOOD_SCORES.items())[:5]])
    with pytest.raises(EmotionParseError, match="disgust, anger, anticipation") as info:
        parse_emotion_reply(partial)
    assert info.value.found == {d: float(s) for d, s in list(GOOD_SCORES.items())[:5]}
    v = parse_emotion_reply(partial, allow_partial=True)
    np.testing.assert_array_equal(v, [2, 3, 4, 2, 7, 1, 1, 1])


# -- LLM scorer: retries and failures --------------------------------------------------------------
class ScriptedChat:
    """A fake chat function that replays replies (exceptions are raised) and records the calls."""

    def __init__(self, *replies):
        self.replies = list(replies)
        self.calls = []

    def __call__(self, messages):
        self.calls.append([dict(m) for m in messages])
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply


def test_llm_scorer_good_reply_and_prompt_language():
    chat = ScriptedChat(FIGURE9_REPLY, FIGURE9_REPLY)
    scorer = LLMEmotionScorer(chat)
    np.testing.assert_array_equal(scorer.score("My boss yelled at me again today."), GOOD_VECTOR)
    system, user = chat.calls[0]
    assert system["role"] == "system" and "My boss yelled at me again today." in user["content"]
    assert "anticipation" in user["content"] and "JSON" in user["content"]
    scorer.score("老板今天又冲我吼了。")
    assert "老板今天又冲我吼了。" in chat.calls[1][1]["content"] and "整数" in chat.calls[1][1]["content"]


def test_llm_scorer_retries_with_correction_then_succeeds():
    partial = json.dumps({"joy": 2, "fear": 8})
    chat = ScriptedChat("no idea", ConnectionError("endpoint down"), partial, FIGURE9_REPLY)
    v = LLMEmotionScorer(chat, retries=3).score("I am worried about my job.")
    np.testing.assert_array_equal(v, GOOD_VECTOR)
    assert len(chat.calls) == 4
    last = chat.calls[-1]
    assert [m["role"] for m in last] == ["system", "user", "assistant", "user"]
    assert last[2]["content"] == partial and "acceptance" in last[3]["content"]  # names what was missing


def test_llm_scorer_clear_failure_after_retries():
    chat = ScriptedChat("nothing useful", TimeoutError("slow"), '{"joy": 3}')
    with pytest.raises(EmotionScoringError) as info:
        LLMEmotionScorer(chat, retries=2).score("I feel bad.")
    message = str(info.value)
    assert "after 3 attempt(s)" in message
    assert "attempt 1: no emotion scores" in message and "attempt 2: TimeoutError: slow" in message
    assert "attempt 3: scores missing for acceptance" in message


def test_llm_scorer_allow_partial_uses_best_attempt():
    chat = ScriptedChat('{"joy": 3}', '{"joy": 4, "fear": 9}')
    v = LLMEmotionScorer(chat, retries=1, allow_partial=True).score("I feel bad.")
    np.testing.assert_array_equal(v, [4, 1, 9, 1, 1, 1, 1, 1])


def test_openai_chat_with_fake_client(monkeypatch):
    sent = {}

    def create(**kwargs):
        sent.update(kwargs)
        message = types.SimpleNamespace(content=FIGURE9_REPLY)
        return types.SimpleNamespace(choices=[types.SimpleNamespace(message=message)])

    client = types.SimpleNamespace(chat=types.SimpleNamespace(completions=types.SimpleNamespace(create=create)))
    monkeypatch.setenv("EMPATH_LLM_MODEL", "my-model")
    scorer = LLMEmotionScorer(openai_chat(client=client))
    np.testing.assert_array_equal(scorer.score("I am angry."), GOOD_VECTOR)
    assert sent["model"] == "my-model" and sent["temperature"] == 0.0 and sent["messages"][0]["role"] == "system"


def test_openai_chat_configuration_errors(monkeypatch):
    for var in ("EMPATH_LLM_MODEL", "EMPATH_LLM_BASE_URL", "EMPATH_LLM_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(EmotionScoringError, match="EMPATH_LLM_MODEL"):
        openai_chat()
    with pytest.raises(EmotionScoringError, match="EMPATH_LLM_BASE_URL"):
        openai_chat("some-model")
    monkeypatch.setenv("EMPATH_LLM_MODEL", "m")
    monkeypatch.setenv("EMPATH_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    assert get_emotion_scorer("llm").name == "llm"  # builds without contacting the server


def test_transformers_chat_on_a_tiny_model_fails_clearly():
    """A random tiny model speaks gibberish: the scorer retries, then says so."""
    pytest.importorskip("transformers")
    from empath.emotion import transformers_chat
    from tests._tiny import smollm_tokenizer, tiny_llama

    tokenizer = smollm_tokenizer()
    chat = transformers_chat(tiny_llama(len(tokenizer)), tokenizer, max_new_tokens=6)
    assert isinstance(chat([{"role": "user", "content": "hello"}]), str)
    with pytest.raises(EmotionScoringError, match="after 2 attempt"):
        LLMEmotionScorer(chat, retries=1).score("I feel sad.")


# -- measured on ESConv ------------------------------------------------------------------------------
def test_esconv_agreement_beats_majority(shared_data):
    from training.evaluate_emotion import evaluate

    data = shared_data / "esconv" / "valid.jsonl"
    if not data.exists():
        pytest.skip(f"{data} not found")
    result = evaluate("default", data, "esconv")
    assert result["n"] == 195 and sum(map(sum, result["confusion"].values())) == 195
    assert result["accuracy"] >= 0.60
    assert result["accuracy"] >= result["majority_baseline"] + 0.1
