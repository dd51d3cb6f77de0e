"""Persona lexicon: each persona's distinctive words, and the decoding bonus that favours them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from empath._data import DataFileError
from empath.generation import SamplingSettings
from empath.persona_lexicon import (
    DEFAULT_LEXICON,
    LEXICON_TAPER,
    PersonaLexicon,
    default_lexicon,
    distinctive_words,
    name_words,
    word_bias,
    words_of,
)
from empath.pipeline import Conversation
from empath.roles import load_roles
from tests._tiny import smollm_tokenizer
from tests.test_pipeline import respond_without_and_with


def test_distinctive_words_set_each_persona_apart():
    texts = {
        "wolf": ["My castle machine broke again, son.", "Another machine, another plan for the castle.",
                 "The machine in the castle will work, son!", "I understand how you feel."],
        "monkey": ["The mountain road is long, little friend.", "On the mountain road I learned patience.",
                   "Old friend, the road ahead is yours.", "I understand how you feel."],
    }
    lexicon = distinctive_words(texts, exclude={"son"}, size=3, min_count=2, min_z=0.5)
    assert set(lexicon["wolf"][:2]) == {"castle", "machine"}
    assert lexicon["monkey"][0] == "road" and {"mountain", "friend"} <= set(lexicon["monkey"])  # most used first
    shared = {"understand", "feel", "how", "you"}  # used alike by both: no persona's word
    assert not shared & {w for words in lexicon.values() for w in words}
    assert "son" not in lexicon["wolf"] and "the" not in lexicon["monkey"]  # excluded and stop words
    assert "son" in distinctive_words(texts, size=3, min_count=2, min_z=0.5)["wolf"]  # when not excluded


def test_shipped_lexicon_is_what_the_builder_writes(tmp_path):
    """The data file is reproducible: `python -m training.build_persona_lexicon` gives it back from the seeds."""
    from training.build_persona_lexicon import main

    out = tmp_path / "persona_lexicon.yaml"
    assert main(["--out", str(out)]) == 0
    assert PersonaLexicon.load(out).by_persona == PersonaLexicon.load(DEFAULT_LEXICON).by_persona


def test_shipped_lexicon_covers_every_persona_and_never_a_name():
    bank = load_roles()
    lexicon = default_lexicon()
    names = name_words(bank)
    assert {"sun", "wukong", "juliet", "doraemon", "potter"} <= names
    for role_id in bank.ids:
        words = lexicon.words(role_id)
        assert len(words) >= 20, role_id
        assert not set(words) & names, role_id
        assert all(words_of(w) == [w] for w in words)  # single lower-case words
    assert lexicon.words(None) == [] and lexicon.words("nobody") == []


def test_a_broken_lexicon_file_is_named(tmp_path):
    bad = tmp_path / "lexicon.yaml"
    bad.write_text("personas:\n  juliet: dear\n", encoding="utf-8")
    with pytest.raises(DataFileError, match="lexicon.yaml"):
        PersonaLexicon.load(bad)


def test_word_bias_favours_each_word_as_a_new_word():
    tok = smollm_tokenizer()
    bias = word_bias(["mountain", "dementors"], tok, 3, taper=0.0)
    sequences = {tuple(ids): value for ids, value in bias}
    assert all(type(value) is float and value == 3.0 for value in sequences.values())  # transformers wants floats
    for word in ("mountain", "Mountain", "dementors", "Dementors"):
        ids = tuple(tok(f" {word}", add_special_tokens=False)["input_ids"])
        assert ids in sequences and tok.decode(list(ids)) == f" {word}"
        if len(ids) > 1:  # a fragment (" Dem") is never favoured on its own
            assert ids[:1] not in sequences, word
    assert any(len(ids) > 1 for ids in sequences)  # the test covers a word of several tokens


def test_word_bias_tapers_from_the_most_distinctive_word_to_the_last():
    tok = smollm_tokenizer()
    words = ["dear", "heart", "love", "nights", "evening"]
    assert LEXICON_TAPER == 0.5
    bonus = {tok.decode(ids): value for ids, value in word_bias(words, tok, 4.0)}
    assert [bonus[f" {w}"] for w in words] == [4.0, 3.5, 3.0, 2.5, 2.0]  # LEXICON_TAPER 0.5: the last gets half
    assert bonus[" Dear"] == 4.0 and bonus[" Evening"] == 2.0  # both casings of a word share its bonus
    shared = {tok.decode(ids): value for ids, value in word_bias(["dear", "heart", "dear"], tok, 4.0)}
    assert shared[" dear"] == 4.0  # a repeated word keeps its higher-ranked bonus
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="taper"):
            word_bias(words, tok, 4.0, taper=bad)


def test_persona_lexicon_setting_is_off_by_default_and_validated():
    assert SamplingSettings().persona_lexicon == 0.0
    assert "sequence_bias" not in SamplingSettings().generate_kwargs(sequence_bias=[[[5], 3.0]])
    on = SamplingSettings(persona_lexicon=3).generate_kwargs(sequence_bias=[[[5], 3.0]])
    assert on["sequence_bias"] == [[[5], 3.0]] and SamplingSettings(persona_lexicon=3).persona_lexicon == 3.0
    for bad in (-1.0, 11.0, True, "3"):
        with pytest.raises(ValueError, match="persona_lexicon"):
            SamplingSettings(persona_lexicon=bad)


def test_pipeline_passes_the_persona_words_only_when_asked():
    plain, pushed, calls = respond_without_and_with(persona_lexicon=8.0)
    assert "persona_words" not in calls[0]
    assert calls[1]["persona_words"] == default_lexicon().words("juliet")
    assert pushed.response != plain.response  # the bonus acts on the logits


@pytest.fixture(scope="module")
def offline_default():
    """The app's own configuration: the offline base model with the shipped adapter."""
    from empath.hub import ModelResolutionError
    from empath.pipeline import EmpathPipeline

    pipe = EmpathPipeline()
    try:
        pipe.generator
    except ModelResolutionError as exc:
        pytest.skip(f"offline base model unavailable: {exc}")
    return pipe


def test_the_offline_default_speaks_more_of_the_persona_words_with_the_bonus(offline_default):
    """With the app's adapter, greedy replies forced to a persona use more of its lexicon with the bonus on."""
    greedy = SamplingSettings(temperature=0, max_new_tokens=40)
    counts = {0.0: 0, 4.5: 0}
    for role in ("juliet", "hanamichi_sakuragi", "harry_potter"):
        lexicon = set(default_lexicon().words(role))
        for message in ("I lost my job last week and I feel worthless.", "My best friend stopped talking to me."):
            for bonus in counts:
                reply = offline_default.respond(Conversation(), message, role=role, record=False,
                                                settings=replace(greedy, persona_lexicon=bonus)).response
                counts[bonus] += sum(word in lexicon for word in words_of(reply))
    assert counts[4.5] >= counts[0.0] + 5, counts
