"""EmpathPipeline on a tiny random LM with recording fakes for the other components."""

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from empath.generation import ChatGenerator, GenerationError, SamplingSettings
from empath.comparison import SYSTEMS, systems_for
from empath.pipeline import Components, Conversation, EmpathPipeline, InputError, PipelineConfig, clean_message
from empath.postprocess import clean_reply
from tests._tiny import tiny_adapter_generator, tiny_generator

QUICK = SamplingSettings(max_new_tokens=8, seed=0)


class Recorder:
    def __init__(self):
        self.calls = []


class FakeRoleMatcher(Recorder):
    def predict(self, question="", description="", keywords=()):
        self.calls.append(question)
        return SimpleNamespace(role="juliet", probs={"juliet": 0.8, "doraemon": 0.2})


class FakeStrategyPredictor(Recorder):
    def predict(self, background, context_turns):
        self.calls.append([t.text for t in context_turns])
        return SimpleNamespace(strategy="Reflection of feelings", probs={"Reflection of feelings": 0.6, "Question": 0.4})


class FakeScorer(Recorder):
    def score(self, text, lang=None):
        self.calls.append(text)
        return np.array([1, 2, 3, 1, 9, 1, 2, 4], dtype=np.float32)


class FakeBank(Recorder):
    def retrieve(self, role, vector, k=1):
        self.calls.append(role)
        exp = SimpleNamespace(id=f"{role}-007", source={"work": "W", "chapter": "C"},
                              text_for=lambda lang: "UNIQUE-EXPERIENCE-MARKER: I waited by the window all night.")
        return [SimpleNamespace(experience=exp, similarity=0.93, centred_similarity=0.41)]


class FakeSafety(Recorder):
    def check(self, text, lang=None, history=None, after_crisis=False):
        self.calls.append(text)
        self.histories = [*getattr(self, "histories", []), list(history or [])]
        return SimpleNamespace(crisis=False, category=None, matched=[], lang=lang or "en",
                               to_dict=lambda: {"crisis": False, "category": None, "matched": []})


def make_pipeline(**overrides):
    parts = dict(generator=tiny_generator(), role_matcher=FakeRoleMatcher(), strategy_predictor=FakeStrategyPredictor(),
                 emotion_scorer=FakeScorer(), experience_bank=FakeBank(), safety_checker=FakeSafety())
    parts.update(overrides)
    return EmpathPipeline(PipelineConfig(), **parts), parts


def system_prompt(result):
    return result.messages[0]["content"]


def test_full_turn_uses_every_component_and_records_the_turn():
    pipe, parts = make_pipeline()
    conv = Conversation()
    result = pipe.respond(conv, "My boyfriend left me and I can't stop crying.", settings=QUICK)
    assert result.role == "juliet" and result.role_source == "matched"
    assert result.strategy == "Reflection of feelings"
    assert result.experience["id"] == "juliet-007" and result.experience["similarity"] == pytest.approx(0.93)
    assert result.emotion["sadness"] == 9
    prompt = system_prompt(result)
    assert "Juliet" in prompt and "Reflection" in prompt and "UNIQUE-EXPERIENCE-MARKER" in prompt
    assert result.response and result.error is None
    assert [t.speaker for t in conv.turns] == ["seeker", "supporter"]
    assert conv.turns[1].strategy == "Reflection of feelings" and conv.turns[1].experience_id == "juliet-007"
    assert result.timings_ms["plan_total"] >= 0



def test_export_keeps_its_fields_and_times_every_stage():
    pipe, _ = make_pipeline()
    result = pipe.respond(Conversation(), "My boyfriend left me and I can't stop crying.", settings=QUICK)
    exported = result.to_dict()
    assert list(exported) == ["message", "lang", "crisis", "crisis_mode", "safety", "role", "role_probs", "role_source",
                              "strategy", "strategy_probs", "strategy_source", "emotion", "experience",
                              "experience_used", "gate_weights", "components", "response", "notice", "error",
                              "timings_ms"]
    assert "messages" in result.to_dict(include_prompt=True)
    assert result.safety_result is not None and exported["safety"] == result.safety_result.to_dict()
    assert list(exported["timings_ms"]) == ["safety", "role", "strategy", "experience", "plan_total", "first_token",
                                            "generate"]
    assert exported["role_probs"] == {"juliet": 0.8, "doraemon": 0.2}

def test_role_is_matched_once_and_kept():
    pipe, parts = make_pipeline()
    conv = Conversation()
    pipe.respond(conv, "I feel so alone since the breakup.", settings=QUICK)
    second = pipe.respond(conv, "We were together three years.", settings=QUICK)
    assert len(parts["role_matcher"].calls) == 1
    assert second.role == "juliet" and second.role_source == "kept"
    # strategy prediction sees the whole context, ending with the new seeker turn
    assert parts["strategy_predictor"].calls[-1][-1] == "We were together three years."
    assert len(parts["strategy_predictor"].calls[-1]) == 3
    # the safety check reads the seeker's earlier turns too (the conversation-level check)
    assert parts["safety_checker"].histories == [[], ["I feel so alone since the breakup."]]


def test_a_persona_matched_on_greetings_is_matched_again_once_the_seeker_names_a_topic():
    """"hi" alone picked the persona for the whole conversation; now it is tentative, matched again on the seeker's
    words so far when a message names a topic, then kept."""
    pipe, parts = make_pipeline()
    conv = Conversation()
    first = pipe.respond(conv, "hi", settings=QUICK)
    assert first.role_source == "tentative"
    second = pipe.respond(conv, "how are you?", settings=QUICK)
    assert second.role_source == "tentative" and len(parts["role_matcher"].calls) == 1  # nothing new: not re-matched
    third = pipe.respond(conv, "I lost my job last week.", settings=QUICK)
    assert third.role_source == "matched" and parts["role_matcher"].calls[-1] == "hi\nhow are you?\nI lost my job last week."
    assert conv.background.question == "hi\nhow are you?\nI lost my job last week."
    fourth = pipe.respond(conv, "ok", settings=QUICK)
    assert fourth.role_source == "kept" and len(parts["role_matcher"].calls) == 2
    assert conv.background.question.endswith("I lost my job last week.")  # settled: later turns do not join it


def test_a_persona_the_user_chose_on_a_greeting_is_kept():
    pipe, parts = make_pipeline()
    conv = Conversation()
    pipe.respond(conv, "hello", role="Harry Potter", settings=QUICK)
    later = pipe.respond(conv, "My sister and I stopped talking.", settings=QUICK)
    assert (later.role, later.role_source) == ("harry_potter", "kept") and parts["role_matcher"].calls == []


def test_the_shipped_matcher_picks_the_persona_from_the_topic_not_the_greeting():
    """The configuration users get: the shipped role matcher, a greeting, then a breakup."""
    from empath.safety import SafetyChecker

    pipe = EmpathPipeline(PipelineConfig(), generator=tiny_generator(), safety_checker=SafetyChecker(use_model=False))
    conv = Conversation()
    first = pipe.respond(conv, "hi there", settings=QUICK)
    assert first.role_source == "tentative" and pipe.roles.get(first.role).topic != "love"  # what a greeting gets
    later = pipe.respond(conv, "My girlfriend broke up with me after three years and I can't stop crying.",
                         settings=QUICK)
    alone = pipe.role_matcher.predict(question="My girlfriend broke up with me after three years and I can't stop "
                                               "crying.")
    assert later.role_source == "matched" and pipe.roles.get(later.role).topic == "love", later.role_probs
    assert pipe.roles.get(alone.role).topic == "love"


def test_user_override_of_persona_and_strategy():
    pipe, parts = make_pipeline()
    conv = Conversation()
    result = pipe.respond(conv, "I lost my job.", role="Harry Potter", strategy="[Question]", settings=QUICK)
    assert (result.role, result.role_source) == ("harry_potter", "override")
    assert (result.strategy, result.strategy_source) == ("Question", "override")
    assert parts["role_matcher"].calls == [] and parts["strategy_predictor"].calls == []
    assert "UNIQUE-EXPERIENCE-MARKER" not in system_prompt(result)  # a Question turn takes no experience
    assert result.experience and not result.experience_used and conv.turns[1].experience_id is None
    assert conv.role == "harry_potter"


@pytest.mark.parametrize("switch,component", [
    ("role_matching", "role_matcher"), ("strategy_prediction", "strategy_predictor"),
    ("experience_rag", "experience_bank"),
])
def test_each_ablation_really_removes_its_component(switch, component):
    pipe, parts = make_pipeline()
    result = pipe.respond(Conversation(), "Everything feels heavy lately.", settings=QUICK,
                          components=Components(**{switch: False}))
    assert parts[component].calls == []
    if switch == "role_matching":
        assert result.role_source == "default" and result.role == pipe.roles.ids[0]
    if switch == "strategy_prediction":
        assert result.strategy is None and "helping skill" not in system_prompt(result)
    if switch == "experience_rag":
        assert result.experience is None and "UNIQUE-EXPERIENCE-MARKER" not in system_prompt(result)
        assert parts["emotion_scorer"].calls == []


def test_base_model_system_has_no_persona():
    pipe, parts = make_pipeline()
    result = pipe.respond(Conversation(), "I can't sleep.", settings=QUICK, components=SYSTEMS["Base model"])
    assert result.role is None and result.strategy is None and result.experience is None
    assert "caring listener" in system_prompt(result)
    assert all(not parts[k].calls for k in ("role_matcher", "strategy_predictor", "experience_bank"))


def test_without_adapter_there_is_no_prompt_only_twin_of_empath():
    pipe, _ = make_pipeline()
    assert not pipe.has_adapter and "Empath w/o adapter (prompt-only)" not in systems_for(pipe)


@pytest.mark.parametrize("bad,match", [
    ("", "empty"), ("   \n\t ", "empty"), ("\x00\x07\x1b", "empty"), ("x" * 2001, "limit is 2000"),
])
def test_bad_messages_are_refused_and_leave_no_trace(bad, match):
    pipe, parts = make_pipeline()
    conv = Conversation()
    with pytest.raises(InputError, match=match):
        pipe.respond(conv, bad, settings=QUICK)
    assert conv.turns == [] and parts["safety_checker"].calls == []


def test_control_characters_are_stripped():
    assert clean_message("he\x00llo\x1b there\n") == "hello there"


@pytest.mark.parametrize("raw,clean", [
    ("\x1b[31mred\x1b[0m text", "red text"), ("\x1b[1;32;40mgo\x1b[m", "go"), ("\x1b[?25lhidden", "hidden"),
    ("a\x1b]0;window title\x07b", "ab"), ("x\x1b]8;;http://e.com\x1b\\link\x1b]8;;\x1b\\", "xlink"),
    ("\x1b(Bok", "ok"), ("\x9b2Jcleared", "cleared"),
])
def test_terminal_escape_sequences_are_stripped_as_a_unit(raw, clean):
    assert clean_message(raw) == clean  # no "[31m" remnants
    with pytest.raises(InputError, match="empty"):
        clean_message("\x1b[31m\x1b[0m")


def test_unknown_persona_lists_valid_ids():
    pipe, _ = make_pipeline()
    with pytest.raises(KeyError, match="valid ids: sun_wukong"):
        pipe.respond(Conversation(), "hello", role="batman", settings=QUICK)


def test_failed_generation_keeps_the_conversation():
    from tests._tiny import ExplodingModel, smollm_tokenizer

    pipe, _ = make_pipeline(generator=ChatGenerator(ExplodingModel(), smollm_tokenizer()))
    conv = Conversation()
    result = pipe.respond(conv, "Hello there", settings=QUICK)
    assert result.error and "out of memory" in result.error
    assert conv.turns == []


def test_streaming_yields_growing_text():
    pipe, _ = make_pipeline()
    lengths = [len(r.response) for r in pipe.stream(Conversation(), "Hi, I feel low.", settings=SamplingSettings(
        max_new_tokens=12, seed=1))]
    assert len(lengths) >= 3 and lengths == sorted(lengths[:-1]) + lengths[-1:]


def test_every_turn_decodes_on_one_long_lived_thread_not_the_callers():
    import threading

    pipe, _ = make_pipeline()
    threads, generate = [], pipe.generator.model.generate

    def recording_generate(*args, **kwargs):
        threads.append(threading.get_ident())
        return generate(*args, **kwargs)

    pipe.generator.model.generate = recording_generate
    for message in ("Hi, I feel low.", "Work is too much.", "Thanks."):
        assert pipe.respond(Conversation(), message, settings=QUICK).response
    assert len(threads) == 3 and len(set(threads)) == 1 and threads[0] != threading.get_ident()


def test_warm_up_runs_one_short_local_turn_and_records_nothing():
    pipe, parts = make_pipeline()
    calls, generate = [], pipe.generator.model.generate
    pipe.generator.model.generate = lambda *a, **kw: calls.append(kw["max_new_tokens"]) or generate(*a, **kw)
    assert pipe.warm_up() is pipe
    assert calls == [2] and parts["safety_checker"].calls and parts["strategy_predictor"].calls


def test_warm_up_never_calls_a_remote_generator():
    class Remote:
        has_adapter = False

        def stream(self, *args, **kwargs):
            raise AssertionError("warm-up must not call a model server")

    pipe, parts = make_pipeline(generator=Remote())
    pipe.warm_up()
    assert parts["role_matcher"].calls  # the local stages still ran once


def test_long_history_is_trimmed_to_the_context_budget():
    pipe, _ = make_pipeline(generator=tiny_generator(max_context_tokens=400))
    conv = Conversation()
    for i in range(12):
        pipe.respond(conv, f"Message number {i}: " + "I keep thinking about it. " * 5, settings=QUICK)
    enc = pipe.generator.encode(pipe.plan(conv, "and now?").messages)
    assert enc["input_ids"].shape[1] <= 400


def test_sampling_settings_validate():
    with pytest.raises(ValueError, match="temperature"):
        SamplingSettings(temperature=3)
    with pytest.raises(ValueError, match="top_p"):
        SamplingSettings(top_p=0)
    with pytest.raises(ValueError, match="top_k"):
        SamplingSettings(top_k=2.5)
    for bad in (-1, float("inf"), float("nan"), "3", None):  # never an OverflowError / TypeError from int()
        with pytest.raises(ValueError, match="top_k"):
            SamplingSettings(top_k=bad)
    assert SamplingSettings(top_k=3.0).top_k == 3 and isinstance(SamplingSettings(top_k=3.0).top_k, int)
    # the app samples at 0.7 from the 3 likeliest tokens (chosen on ESConv valid, README "Replies")
    sampled = SamplingSettings().generate_kwargs(prompt_length=5)
    assert {k: sampled[k] for k in ("do_sample", "temperature", "top_p", "top_k", "max_new_tokens")} == {
        "do_sample": True, "temperature": 0.7, "top_p": 1.0, "top_k": 3, "max_new_tokens": 64}
    # no end before 12 new tokens (a sampled end-of-turn first would leave an empty reply; a short one, a brevity penalty)
    assert sampled["min_new_tokens"] == 12
    greedy = SamplingSettings(temperature=0).generate_kwargs()
    assert greedy["do_sample"] is False and "top_k" not in greedy
    assert "logits_processor" not in SamplingSettings(repetition_penalty=1.0).generate_kwargs()
    # no end of the reply before min_new_tokens; a shorter max_new_tokens (a 4-token API request) wins
    assert SamplingSettings(min_new_tokens=16).generate_kwargs()["min_new_tokens"] == 16
    assert SamplingSettings(min_new_tokens=16, max_new_tokens=4).generate_kwargs()["min_new_tokens"] == 4
    for bad in (0, 2049, 2.5, True, "8", None):
        with pytest.raises(ValueError, match="min_new_tokens"):
            SamplingSettings(min_new_tokens=bad)
    assert SamplingSettings(candidates=4.0).candidates == 4 and SamplingSettings().candidates == 1
    for bad in (0, 17, 2.5, True, "4", None):
        with pytest.raises(ValueError, match="candidates"):
            SamplingSettings(candidates=bad)
    with pytest.raises(ValueError, match="persona_guidance"):
        SamplingSettings(candidates=3, persona_guidance=1.5)  # guidance decodes one sequence
    with pytest.raises(ValueError, match="needs sampling"):
        SamplingSettings(candidates=3, temperature=0)
    with pytest.raises(ValueError, match="consensus must be one of rouge-l, bleu-2"):
        SamplingSettings(consensus="bleu")


def test_with_several_candidates_the_reply_is_the_most_agreed_of_the_drafts():
    """candidates > 1: the drafts are sampled in one batch with the turn's route and the shown reply is the consensus
    of the cleaned drafts, deterministic for a seed."""
    from empath.postprocess import consensus_reply

    pipe, _ = make_pipeline(generator=tiny_adapter_generator())
    settings = SamplingSettings(temperature=1.0, top_k=0, max_new_tokens=12, seed=5, candidates=3)
    result = pipe.respond(Conversation(), "I lost my job and I feel worthless.", settings=settings)
    route = pipe.route_for(result, Components())
    drafts = pipe.generator.drafts(result.messages, settings, route)
    assert len(drafts) == 3 and len(set(drafts)) > 1  # sampled apart
    assert result.drafts == [clean_reply(d, "en") for d in drafts] and "drafts" not in result.to_dict()
    assert result.response == consensus_reply(result.drafts) and not result.error
    again = pipe.respond(Conversation(), "I lost my job and I feel worthless.", settings=settings)
    assert again.response == result.response
    by_bleu = pipe.respond(Conversation(), "I lost my job and I feel worthless.",
                           settings=replace(settings, consensus="bleu-2"))
    assert by_bleu.drafts == result.drafts and by_bleu.response == consensus_reply(result.drafts, agreement="bleu-2")


def test_with_the_persona_lexicon_the_drafts_are_anchored_to_as_many_plain_ones():
    """candidates > 1 with the persona lexicon: the persona's drafts (with the bonus) are scored against as many drafts
    sampled without it, and the one closest to them is shown."""
    from empath.postprocess import consensus_reply

    pipe, _ = make_pipeline(generator=tiny_adapter_generator())
    settings = SamplingSettings(temperature=1.0, top_k=0, max_new_tokens=12, seed=5, candidates=3, persona_lexicon=4.5)
    result = pipe.respond(Conversation(), "I lost my job and I feel worthless.", role="juliet", settings=settings)
    route = pipe.route_for(result, Components())
    persona = pipe.generator.drafts(result.messages, settings, route, persona_words=pipe.lexicon.words("juliet"))
    plain = pipe.generator.drafts(result.messages, replace(settings, persona_lexicon=0.0), route)
    persona, plain = [clean_reply(d, "en") for d in persona], [clean_reply(d, "en") for d in plain]
    assert persona != plain  # the bonus changed the drafts
    assert result.response == consensus_reply(persona, anchors=plain) and not result.error


def test_repetition_penalty_spares_the_prompt():
    """The penalty applies to the reply's own tokens only: a word the seeker used is not made less likely."""
    import torch

    (penalty,) = SamplingSettings(repetition_penalty=2.0).generate_kwargs(prompt_length=3)["logits_processor"]
    ids = torch.tensor([[1, 2, 3, 4]])  # tokens 1-3: the prompt; token 4: generated so far
    scores = penalty(ids, torch.full((1, 6), 2.0))
    assert scores[0, 1:4].tolist() == [2.0, 2.0, 2.0]  # prompt tokens untouched
    assert scores[0, 4].item() == 1.0  # the reply's own token is penalised


def test_a_reply_may_not_reuse_an_ngram_of_an_earlier_reply_but_may_reuse_the_seekers_words():
    import torch

    earlier = [[7, 8, 9, 10, 11]]
    _, block = SamplingSettings(no_repeat_reply_ngram=3).generate_kwargs(2, earlier)["logits_processor"]
    scores = block(torch.tensor([[8, 9, 7, 8]]), torch.zeros((1, 12)))  # prompt 8 9; the reply so far: 7 8
    assert scores[0].isinf().nonzero().flatten().tolist() == [9]  # "7 8 9" was said before; only 9 is banned
    assert not block(torch.tensor([[7, 8, 5, 6]]), torch.zeros((1, 12))).isinf().any()  # prompt n-grams are free
    assert len(SamplingSettings(no_repeat_reply_ngram=0).generate_kwargs(2, earlier)["logits_processor"]) == 1
    with pytest.raises(ValueError, match="no_repeat_reply_ngram"):
        SamplingSettings(no_repeat_reply_ngram=1)


def test_top_k_one_samples_exactly_the_greedy_reply():
    pipe, _ = make_pipeline()
    replies = {pipe.respond(Conversation(), "I failed my exam.", settings=SamplingSettings(
        temperature=t, top_k=k, max_new_tokens=12, seed=seed)).response for t, k, seed in ((0, 3, 0), (1.5, 1, 1), (1.5, 1, 2))}
    assert len(replies) == 1  # the cut is applied: one token left means the likeliest, whatever the temperature
    wide = {pipe.respond(Conversation(), "I failed my exam.", settings=SamplingSettings(
        temperature=1.5, top_k=0, max_new_tokens=12, seed=seed)).response for seed in range(3)}
    assert len(wide) > 1  # without the cut the same seeds sample different replies


def test_greedy_replies_in_one_conversation_share_no_four_gram():
    pipe, _ = make_pipeline()
    tokenizer = pipe.generator.tokenizer
    for ngram, distinct in ((0, False), (4, True)):  # without the block the tiny model repeats itself
        conv, seen, repeated = Conversation(), set(), False
        for _ in range(4):
            reply = pipe.respond(conv, "Thanks.", settings=SamplingSettings(temperature=0, max_new_tokens=12,
                                                                            no_repeat_reply_ngram=ngram)).response
            ids = tokenizer(reply, add_special_tokens=False)["input_ids"]
            grams = {tuple(ids[i:i + 4]) for i in range(len(ids) - 3)}
            repeated |= bool(grams & seen)
            seen |= grams
        assert repeated is not distinct


def test_only_the_models_own_earlier_replies_are_blocked_not_a_human_supporters_turns():
    from empath.dialogue import Turn
    from empath.generation import NoRepeatFromEarlierReplies

    pipe, _ = make_pipeline()
    blocks, generate = [], pipe.generator.model.generate

    def recording_generate(*args, **kwargs):
        blocks.append([p for p in kwargs.get("logits_processor", []) if isinstance(p, NoRepeatFromEarlierReplies)])
        return generate(*args, **kwargs)

    pipe.generator.model.generate = recording_generate
    rebuilt = Conversation(turns=[Turn("seeker", "I failed my exam."), Turn("supporter", "How do you feel about it?")])
    pipe.respond(rebuilt, "Terrible.", settings=QUICK)  # a gold history (evaluation): the human's words are free
    live = Conversation()
    first = pipe.respond(live, "I failed my exam.", settings=QUICK).response
    pipe.respond(live, "Terrible.", settings=QUICK)
    assert [len(b) for b in blocks] == [0, 0, 1]
    ids = pipe.generator.tokenizer(first, add_special_tokens=False)["input_ids"]
    assert blocks[2][0].banned.get(tuple(ids[:3])) == {ids[3]}


def test_conversation_export_is_json():
    import json

    pipe, _ = make_pipeline()
    conv = Conversation()
    pipe.respond(conv, "I failed my exam.", settings=QUICK)
    data = json.loads(conv.to_json())
    assert data["turns"][0]["text"] == "I failed my exam." and data["results"][0]["role"] == "juliet"


@pytest.mark.parametrize("message,lang", [("I want to kill myself tonight.", "en"), ("我不想活了，想一了百了。", "zh")])
def test_crisis_message_gets_the_safety_reply_not_a_sampled_one(message, lang):
    from empath.safety import SafetyChecker

    pipe, parts = make_pipeline(safety_checker=SafetyChecker())
    conv = Conversation()
    result = pipe.respond(conv, message, settings=QUICK)
    assert result.crisis and result.safety["category"] in {"suicide", "self_harm"}
    assert ("988" in result.response or "findahelpline" in result.response) if lang == "en" else \
        ("400-161-9995" in result.response or "010-82951332" in result.response)
    assert "Juliet" in result.response or "朱丽叶" in result.response  # the persona stays, warm
    assert result.lang == lang and conv.turns[-1].text == result.response
    safe = pipe.respond(conv, "Thank you for listening.", settings=QUICK)
    assert not safe.crisis and safe.crisis_mode and conv.crisis
    assert "in danger" in system_prompt(safe) or "有危险" in system_prompt(safe)  # later replies keep checking
    shown = [m["content"] for m in safe.messages if m["role"] == "assistant"]
    # the fixed text is shown to the model as one short line, so that a small model does not copy its phrases
    assert result.response not in shown and len(shown) == 1 and len(shown[0]) < 80, shown
    assert ("crisis line" in shown[0]) if lang == "en" else ("心理危机热线" in shown[0])


def test_a_risk_told_without_risk_words_after_a_crisis_turn_gets_the_safety_follow_up():
    """After a flagged turn the pipeline tells the checker so (after_crisis): "it's almost time" is then a crisis
    turn answered with the safety follow-up, not a generated reply; the same words open no crisis on their own."""
    from empath.safety import SafetyChecker

    pipe, _ = make_pipeline(safety_checker=SafetyChecker())
    conv = Conversation()
    first = pipe.respond(conv, "I want to kill myself tonight.", settings=QUICK)
    later = pipe.respond(conv, "it's almost time", settings=QUICK)
    assert first.crisis and later.crisis and later.safety["matched"] == ["model/followup"], later.safety
    assert later.strategy_source == "safety" and "988" in later.response and later.response != first.response
    assert not pipe.respond(Conversation(), "it's almost time", settings=QUICK).crisis


def test_a_worried_friends_report_gets_the_helpers_crisis_reply():
    from empath.safety import SafetyChecker

    pipe, _ = make_pipeline(safety_checker=SafetyChecker())
    result = pipe.respond(Conversation(), "My friend posted that she's going to end her life tonight, please help.",
                          settings=QUICK)
    assert result.crisis and "someone you care about" in result.response and "988" in result.response


@pytest.mark.parametrize("lang, opening, still, over", [
    ("en", "my best friend just sent me a goodbye message and now she's not answering her phone",
     "she is still not answering, I'm scared", "she picked up! she's at her mum's and she's ok"),
    ("zh", "我室友刚发消息说今晚就吞药，让我别找她", "她还是不回我消息", "联系上了，她妈妈已经过去陪她了"),
])
def test_a_helper_whose_friend_is_still_out_of_reach_keeps_the_helpers_reply(lang, opening, still, over):
    """"She's still not answering" says nothing risky on its own; while the helper's situation is open it keeps the
    helper's follow-up instead of a generated reply; news that the friend is safe does not match it."""
    from empath.safety import SafetyChecker

    pipe, _ = make_pipeline(safety_checker=SafetyChecker())
    conv = Conversation()
    first = pipe.respond(conv, opening, settings=QUICK)
    assert first.crisis and first.safety.get("situation") == "someone_else", first.safety
    later = pipe.respond(conv, still, settings=QUICK)
    assert later.crisis and later.safety.get("situation") == "someone_else", later.safety  # the helper's texts
    assert later.strategy_source == "safety" and later.response != first.response
    assert ("emergency" in later.response) if lang == "en" else ("120" in later.response)
    # news that the friend is safe does not keep it open (the conversation check may still read the dark history)
    assert "situation/someone_else" not in pipe.respond(conv, over, settings=QUICK).safety["matched"]
    assert not pipe.respond(Conversation(), still, settings=QUICK).crisis  # alone it opens nothing


@pytest.mark.parametrize("lang, message, fits, other", [
    ("en", "my brother is having a seizure and it's been five minutes", "do not hold them down", "container"),
    ("zh", "女儿烧到抽搐了，眼睛往上翻", "不要按住对方", "催吐"),
])
def test_someone_hurt_now_gets_the_first_aid_for_what_happened(lang, message, fits, other):
    """The app's path with the shipped detector: the crisis turn's reply carries the advice for what the seeker wrote
    (a seizure), not every first-aid case at once."""
    from empath.safety import SafetyChecker

    pipe, _ = make_pipeline(safety_checker=SafetyChecker())
    result = pipe.respond(Conversation(), message, settings=QUICK)
    assert result.crisis and result.safety.get("situation") == "someone_hurt", result.safety
    assert fits in result.response and other not in result.response, result.response


def test_crisis_turns_are_safety_replies_varied_by_count_not_strategies():
    from empath.safety import SafetyChecker

    pipe, _ = make_pipeline(safety_checker=SafetyChecker())
    conv = Conversation()
    first = pipe.respond(conv, "I want to kill myself tonight.", settings=QUICK)
    again = pipe.respond(conv, "Nobody would notice if I was gone, I want to end my life.", settings=QUICK)
    assert first.crisis and again.crisis
    for result in (first, again):
        assert result.strategy is None and result.strategy_source == "safety" and not result.experience_used
        assert result.gate_weights is None
    assert first.response != again.response  # acknowledged as a new message, not the identical canned text
    assert conv.turns[1].strategy is None  # the dialogue history does not pretend it was a [Question]
    replay = Conversation()
    assert [pipe.respond(replay, m, settings=QUICK).response for m in
            ("I want to kill myself tonight.", "Nobody would notice if I was gone, I want to end my life.")] == \
        [first.response, again.response]  # deterministic: chosen by count, never sampled


def test_another_base_model_shares_every_other_component(tmp_path):
    from tests._tiny import smollm_tokenizer, tiny_llama

    tok = smollm_tokenizer()
    tiny_llama(len(tok), seed=3).save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    pipe, parts = make_pipeline()
    other = pipe.with_base_model(str(tmp_path))
    assert other.role_matcher is parts["role_matcher"] and other.experience_bank is parts["experience_bank"]
    result = other.respond(Conversation(), "I feel lost.", settings=QUICK)
    assert result.role == "juliet" and result.response
    assert other.generator is not pipe.generator and not other.has_adapter



def test_the_pipelines_role_bank_is_handed_to_every_component_it_builds(monkeypatch):
    import empath.classifiers
    import empath.experiences
    import empath.safety
    from empath.roles import load_roles

    received = {}

    def recorder(name):
        def build(*args, roles=None, **kwargs):
            received[name] = roles
            return SimpleNamespace()
        return build

    monkeypatch.setattr(empath.classifiers.RoleMatcher, "load", recorder("role_matcher"))
    monkeypatch.setattr(empath.experiences.ExperienceBank, "load", recorder("experience_bank"))
    monkeypatch.setattr(empath.safety, "SafetyChecker", recorder("safety"))
    bank = load_roles()
    pipe = EmpathPipeline(PipelineConfig(), roles=bank, generator=tiny_generator())
    for component in ("role_matcher", "experience_bank", "safety"):
        getattr(pipe, component)  # built on first use
    assert set(received) == {"role_matcher", "experience_bank", "safety"}
    assert all(roles is bank for roles in received.values())

def test_every_system_answers_when_an_adapter_is_loaded():
    """Systems without the adapter (base model, prompt-only) run the base weights with the adapter disabled."""
    pipe, _ = make_pipeline(generator=tiny_adapter_generator())
    assert pipe.has_adapter and "Empath w/o adapter (prompt-only)" in systems_for(pipe)
    for name, components in systems_for(pipe).items():
        result = pipe.respond(Conversation(), "I can't sleep.", settings=QUICK, components=components)
        assert result.error is None and result.response, name
        assert (result.gate_weights is None) == (not components.adapter), name
    model = pipe.generator.model
    assert not any(layer.disable_adapters for _, layer in model.adapter_layers())  # re-enabled afterwards


class CountingGenerator:
    """Wraps a generator and counts model calls (stream / gate weights)."""

    def __init__(self, inner):
        self.inner, self.calls = inner, 0

    @property
    def has_adapter(self):
        return self.inner.has_adapter

    def stream(self, *args, **kwargs):
        self.calls += 1
        yield from self.inner.stream(*args, **kwargs)


class FixedTextGenerator:
    """Streams one fixed reply (tests that need real text where a random tiny LM writes noise)."""

    has_adapter = False

    def __init__(self, text):
        self.text = text

    def stream(self, messages, settings, route=None, own_replies=()):
        yield from self.text


class ScriptedGenerator:
    """Streams the given replies in turn, recording each call's seed."""

    has_adapter = False

    def __init__(self, *texts):
        self.texts, self.seeds = list(texts), []

    def stream(self, messages, settings, route=None, own_replies=()):
        self.seeds.append(settings.seed)
        yield from self.texts[len(self.seeds) - 1]


@pytest.mark.parametrize("temperature,drawn", [(0.7, 2), (0.0, 1)])
def test_a_sampled_reply_that_cleaning_empties_is_drawn_once_more(temperature, drawn):
    gen = ScriptedGenerator("抱歉这不是英文。", "That sounds really hard.")  # another script: cleaned away
    pipe, _ = make_pipeline(generator=gen)
    conv = Conversation()
    result = pipe.respond(conv, "I failed my exam.", settings=SamplingSettings(temperature=temperature, seed=5))
    assert gen.seeds == [5, 6][:drawn]  # the second draw samples with another seed
    if drawn == 2:
        assert result.response == "That sounds really hard." and result.error is None
    else:  # greedy would give the same text again: the user is told instead
        assert result.response == "" and "empty reply" in result.error and conv.turns == []


def test_chinese_to_an_english_only_model_gets_a_chinese_notice_and_no_generation():
    gen = CountingGenerator(tiny_generator())
    pipe, parts = make_pipeline(generator=gen)  # PipelineConfig(): the offline default, declared English only
    assert pipe.model_languages == ("en",) and not pipe.answers_in("zh")
    conv = Conversation()
    result = pipe.respond(conv, "我最近总是失眠，工作压力很大。", settings=QUICK)
    assert gen.calls == 0 and result.response == "" and result.error is None
    assert result.lang == "zh" and "SmolLM2-135M-Instruct" in result.notice
    assert "中文" in result.notice and "EMPATH_BASE_MODEL=" in result.notice and "Sorry" not in result.notice
    # everything around the reply still ran and shows
    assert result.role == "juliet" and result.strategy == "Reflection of feelings" and result.experience
    assert parts["safety_checker"].calls and parts["experience_bank"].calls and result.emotion
    # nothing was answered: the dialogue the model sees is unchanged, the export keeps the turn
    assert conv.turns == [] and conv.lang is None and conv.results[-1]["notice"] == result.notice
    assert result.to_dict()["notice"] == result.notice


def test_chinese_written_into_an_english_conversation_gets_the_notice_not_an_english_reply():
    gen = CountingGenerator(tiny_generator())
    pipe, _ = make_pipeline(generator=gen)
    conv = Conversation()
    assert pipe.respond(conv, "My girlfriend left me and I can't stop crying.", settings=QUICK).response
    calls = gen.calls
    result = pipe.respond(conv, "我最近总是失眠，工作压力很大。", settings=QUICK)
    assert gen.calls == calls and result.response == "" and "中文" in result.notice
    assert conv.lang == "en" and len(conv.turns) == 2  # the English dialogue goes on from where it was
    # a language the user chose explicitly is kept: the reply is written in it
    assert pipe.respond(conv, "我最近总是失眠，工作压力很大。", lang="en", settings=QUICK).response


def test_chinese_selected_for_english_input_steers_the_prompt_and_gets_an_english_notice():
    gen = CountingGenerator(tiny_generator())
    pipe, _ = make_pipeline(generator=gen)
    result = pipe.respond(Conversation(), "I can't sleep and work is crushing me.", lang="zh", settings=QUICK)
    assert result.lang == "zh" and "朱丽叶" in system_prompt(result)  # the zh prompt template was chosen
    assert gen.calls == 0 and result.response == ""
    assert result.notice.startswith("Sorry, I can't reply in Chinese") and "set Language back to auto" in result.notice


def test_a_model_declared_chinese_capable_generates():
    from empath.pipeline import PipelineConfig

    gen = CountingGenerator(FixedTextGenerator("我在这里陪着你。"))  # a random tiny LM writes no Chinese to keep
    pipe = EmpathPipeline(PipelineConfig(languages=("en", "zh")), generator=gen, role_matcher=FakeRoleMatcher(),
                          strategy_predictor=FakeStrategyPredictor(), emotion_scorer=FakeScorer(),
                          experience_bank=FakeBank(), safety_checker=FakeSafety())
    conv = Conversation()
    result = pipe.respond(conv, "我最近总是失眠，工作压力很大。", settings=QUICK)
    assert gen.calls == 1 and result.notice is None and result.response and result.lang == "zh"
    assert len(conv.turns) == 2
    # the table: Qwen speaks Chinese, another base model gets its own languages, not the main model's
    assert EmpathPipeline(PipelineConfig(base_model="Qwen/Qwen2.5-1.5B-Instruct@abc")).answers_in("zh")
    assert pipe.with_base_model("HuggingFaceTB/SmolLM2-360M-Instruct").model_languages == ("en",)


def test_a_chinese_crisis_turn_gets_the_crisis_reply_not_the_notice():
    from empath.safety import SafetyChecker

    gen = CountingGenerator(tiny_generator())
    pipe, _ = make_pipeline(generator=gen, safety_checker=SafetyChecker())
    result = pipe.respond(Conversation(), "我不想活了，想一了百了。", settings=QUICK)
    assert result.crisis and result.notice is None and gen.calls == 0
    assert "400-161-9995" in result.response or "010-82951332" in result.response


def test_a_safety_text_is_in_the_language_the_seeker_just_wrote_in():
    """A Chinese crisis message in a conversation that began in English gets the Chinese safety text (and the other way
    round), unless the user chose a language; a short "ok" keeps the conversation's language."""
    from empath.safety import SafetyChecker

    pipe, _ = make_pipeline(safety_checker=SafetyChecker())
    english_first = Conversation()
    pipe.respond(english_first, "I failed my exam.", settings=QUICK)
    switched = pipe.respond(english_first, "我准备今天晚上去死", settings=QUICK)
    assert switched.crisis and "400-161-9995" in switched.response and "988" not in switched.response
    chosen = pipe.respond(Conversation(), "我准备今天晚上去死", lang="en", settings=QUICK)
    assert chosen.crisis and "988" in chosen.response
    chinese_first = Conversation()
    pipe.respond(chinese_first, "我不想活了，想一了百了。", settings=QUICK)
    back = pipe.respond(chinese_first, "I want to kill myself tonight.", settings=QUICK)
    assert back.crisis and "988" in back.response and back.lang == "en"  # the API and the export read the reply's


def test_model_languages_from_env_and_table(monkeypatch):
    from empath.languages import languages_for, parse_languages

    monkeypatch.delenv("EMPATH_BASE_MODEL", raising=False)
    monkeypatch.setenv("EMPATH_MODEL_LANGUAGES", "EN, zh")
    assert PipelineConfig.from_env().languages == ("en", "zh")
    monkeypatch.setenv("EMPATH_MODEL_LANGUAGES", "english!")
    with pytest.raises(ValueError, match="not a language code"):
        PipelineConfig.from_env()
    assert languages_for(None) == ("en",) and languages_for("smollm2-135m-instruct", "any") is None
    assert languages_for("/models/Qwen2.5-7B-Instruct") == ("en", "zh")
    assert "zh" not in languages_for("meta-llama/Llama-3.1-8B-Instruct")
    assert languages_for("org/some-unknown-model") is None  # unknown: assumed to answer (documented)
    assert parse_languages("") is None


# -- persona guidance (opt-in classifier-free guidance away from the persona-free prompt) ----------------
class RecordingGenerator:
    """Wraps a generator and records what each stream() call was given."""

    def __init__(self, inner):
        self.inner, self.calls = inner, []

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def stream(self, messages, settings, route=None, **kwargs):
        self.calls.append(kwargs)
        return self.inner.stream(messages, settings, route, **kwargs)


def test_persona_guidance_is_off_by_default_and_validated():
    assert "guidance_scale" not in SamplingSettings().generate_kwargs(guidance_ids=[[1, 2]])
    on = SamplingSettings(persona_guidance=1.5).generate_kwargs(guidance_ids=[[1, 2]])
    assert on["guidance_scale"] == 1.5 and on["negative_prompt_ids"] == [[1, 2]]
    assert "guidance_scale" not in SamplingSettings(persona_guidance=1.5).generate_kwargs()  # nothing to steer from
    for bad in (0.5, 3.5):
        with pytest.raises(ValueError, match="persona_guidance"):
            SamplingSettings(persona_guidance=bad)


def respond_without_and_with(**setting):
    """One message answered by a recording pipeline with default settings, then with ``setting``:
    (plain result, steered result, what the generator got each time)."""
    pipe, parts = make_pipeline(generator=RecordingGenerator(tiny_generator()))
    settings = SamplingSettings(temperature=0, max_new_tokens=8)
    plain = pipe.respond(Conversation(), "I failed my exam.", settings=settings)
    steered = pipe.respond(Conversation(), "I failed my exam.", settings=replace(settings, **setting))
    return plain, steered, parts["generator"].calls


def test_persona_guidance_steers_away_from_the_persona_free_prompt():
    plain, guided, calls = respond_without_and_with(persona_guidance=3.0)
    assert calls[0] == {"own_replies": []}  # off: the generator is called as before
    negative = calls[1]["guidance_messages"]
    assert "Juliet" in system_prompt(guided) and "Juliet" not in negative[0]["content"]  # the persona is what differs
    assert negative[1:] == guided.messages[1:]  # the same conversation
    assert guided.response != plain.response  # the guidance acts on the logits


@pytest.mark.parametrize("setting, given", [({"persona_guidance": 2.0}, "guidance_messages"),
                                            ({"persona_lexicon": 3.0}, "persona_words")])
def test_persona_steering_needs_a_persona(setting, given):
    pipe, parts = make_pipeline(generator=RecordingGenerator(tiny_generator()))
    pipe.respond(Conversation(), "I failed my exam.", components=SYSTEMS["Base model"],
                 settings=SamplingSettings(temperature=0, max_new_tokens=4, **setting))
    assert given not in parts["generator"].calls[-1]
