"""Persona-voice metric (empath.persona_voice, training.evaluate_persona_voice) and the seed dialogues."""

import json
import re
from collections import defaultdict
from pathlib import Path

import pytest

from empath.dialogue import SEEKER, SUPPORTER, read_jsonl
from empath.experiences import ExperienceBank
from empath.persona_voice import (PersonaVoiceClassifier, mask_persona_names, persona_name_pattern, persona_texts,
                                  persona_voice_accuracy, persona_voice_report)
from empath.roles import load_roles
from empath.strategies import strategies as load_strategies

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "seed_dialogues" / "persona_en.jsonl"
COMFORTING = {"Self-disclosure", "Reflection of feelings", "Affirmation and Reassurance"}


@pytest.fixture(scope="module")
def experience_bank():
    return ExperienceBank.load()


@pytest.fixture(scope="module")
def classifier(experience_bank):
    return PersonaVoiceClassifier().fit(load_roles(), experience_bank, lang="en")


@pytest.fixture(scope="module")
def seed():
    return read_jsonl(SEED)


# -- the classifier ----------------------------------------------------------------------------
def test_fitted_only_on_the_personas_own_texts(experience_bank):
    texts = persona_texts(load_roles(), experience_bank, "en")
    assert {t.kind for t in texts} == {"name", "profile", "style", "example", "experience"}
    assert {t.role for t in texts} == set(load_roles().ids)
    assert sum(t.kind == "experience" for t in texts) == len(experience_bank)
    seed_sentences = {t.text for d in read_jsonl(SEED) for t in d.turns}
    assert not seed_sentences & {t.text for t in texts}


def test_cross_validated_accuracy_well_above_chance(classifier):
    cv = classifier.cross_validate(folds=3)
    assert cv["chance"] == pytest.approx(1 / 9)
    assert cv["accuracy"] >= 0.75, cv  # about 0.91 with 5 folds


def test_replies_from_held_out_experiences_are_identified(experience_bank):
    held_out, kept = [], []
    for role in experience_bank.roles:
        for i, exp in enumerate(experience_bank.experiences(role)):
            (held_out if i % 4 == 0 else kept).append(exp)
    clf = PersonaVoiceClassifier().fit(load_roles(), ExperienceBank(kept), lang="en")
    # a reply-length piece (first two sentences) of each unseen experience, as the persona would tell it
    replies = [" ".join(re.split(r"(?<=[.!?])\s+", e.text["en"])[:2]) for e in held_out]
    personas = [e.role for e in held_out]
    accuracy = persona_voice_accuracy(replies, personas, clf)
    assert accuracy >= 0.75, accuracy  # about 0.95; chance is 0.11


def test_style_examples_name_their_persona(classifier):
    bank = load_roles()
    examples = [(x, r.id) for r in bank for x in r.style_examples("en")]
    assert classifier.score([x for x, _ in examples], [r for _, r in examples]) >= 0.9


def test_report_and_errors(classifier):
    report = persona_voice_report(["Hahaha! The genius got dumped fifty times, so grab the rebound!",
                                   "Let me see what's in my pocket. Nobita and Gian fought again."],
                                  ["hanamichi_sakuragi", "doraemon"], classifier)
    assert report["n"] == 2 and report["accuracy"] == 1.0
    assert set(report["per_persona"]) == {"hanamichi_sakuragi", "doraemon"}
    with pytest.raises(ValueError):
        persona_voice_accuracy(["one"], [], classifier)
    with pytest.raises(RuntimeError):
        PersonaVoiceClassifier().predict(["not fitted"])
    assert classifier.predict([]) == []


def test_name_masking_catches_misspelt_names_and_keeps_other_words(classifier):
    pattern = persona_name_pattern(classifier.names)
    assert mask_persona_names("Hello Narutonarimaki, how are you?", pattern) == "Hello , how are you?"
    assert mask_persona_names("Harry Potter and DoraемON say hi", pattern) == "and say hi"
    assert mask_persona_names("孙悟空说：别怕。", persona_name_pattern(["孙悟空"])) == "说：别怕。"
    kept = "That sounds like a long, heavy day; you did well to say it."
    assert mask_persona_names(kept, pattern) == kept


def test_a_reply_that_only_names_the_persona_is_not_its_voice(classifier):
    replies = ["Hello Doraemon, how are you feeling today?", "Hello Juliet, how are you feeling today?"]
    report = persona_voice_report(replies, ["doraemon", "juliet"], classifier)
    assert report["accuracy"] == 1.0  # the names alone decide the raw score
    masked = report["names_masked"]
    assert masked["naming"] == 2 and masked["accuracy"] <= 0.5  # the same text is left: one persona for both


def test_seed_dialogues_are_identified_well_above_chance(classifier, seed):
    replies = [(t.text, d.background.role) for d in seed for t in d.turns if t.speaker == SUPPORTER]
    report = persona_voice_report([r for r, _ in replies], [p for _, p in replies], classifier)
    assert report["accuracy"] >= 0.4, report["accuracy"]  # about 0.57; chance 0.11
    assert all(row["accuracy"] > report["chance"] for row in report["per_persona"].values())


def test_cli_predictions_and_seed(tmp_path, capsys):
    from training.evaluate_persona_voice import main

    preds = tmp_path / "predictions.jsonl"
    lines = [{"reply": "Ha! Little friend, old Sun climbed out from under the mountain.", "role": "sun_wukong",
              "system": "a"},
             {"reply": "Let's look at it like a case: what is the first clue?", "role": "conan_edogawa",
              "system": "b"},
             {"reply": "no role here"}]
    preds.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    assert main(["--predictions", str(preds), "--seed-dialogues", str(SEED), "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["predictions"]["n"] == 2 and out["predictions"]["skipped"] == 1
    assert set(out["predictions"]["per_system"]) == {"a", "b"}
    assert out["seed_dialogues"]["n"] == sum(1 for d in read_jsonl(SEED) for t in d.turns if t.speaker == SUPPORTER)


# -- the seed dialogues ------------------------------------------------------------------------
def test_seed_file_has_six_dialogues_per_persona(seed):
    per = defaultdict(int)
    for d in seed:
        assert d.lang == "en" and d.source == "empath-seed"
        assert d.background.question.strip() and d.background.topic
        per[d.background.role] += 1
    assert set(per) == set(load_roles().ids)
    assert min(per.values()) >= 6 and len(seed) >= 54
    assert len({d.id for d in seed}) == len(seed)


def test_seed_turns_alternate_and_are_tagged(seed):
    canonical = {s.name for s in load_strategies()}
    for d in seed:
        assert 8 <= len(d.turns) <= 10, d.id
        for i, turn in enumerate(d.turns):
            assert turn.speaker == (SEEKER if i % 2 == 0 else SUPPORTER), (d.id, i)
            if turn.speaker == SUPPORTER:
                assert turn.strategy in canonical, (d.id, i)
                assert 10 <= len(turn.text.split()) <= 45, (d.id, i, turn.text)
            else:
                assert turn.strategy is None and turn.experience_id is None


def test_seed_covers_all_strategies_per_persona(seed):
    canonical = {s.name for s in load_strategies()}
    assert len(canonical) == 8
    per = defaultdict(set)
    for d in seed:
        per[d.background.role] |= {t.strategy for t in d.turns if t.speaker == SUPPORTER}
    for role, strategies in per.items():
        assert strategies == canonical, (role, canonical - strategies)


def test_seed_experiences_exist_and_belong_to_the_persona(seed, experience_bank):
    for d in seed:
        used = [t for t in d.turns if t.experience_id]
        assert any(t.strategy in COMFORTING for t in used), f"{d.id}: no experience in a comforting turn"
        for turn in used:
            assert turn.experience_id in experience_bank, turn.experience_id
            assert experience_bank.get(turn.experience_id).role == d.background.role
        for turn in d.turns:
            if turn.strategy == "Self-disclosure":
                assert turn.experience_id, f"{d.id}: self-disclosure without an experience"


# -- persona replies to real ESConv seekers (an overlay: ids + our replies) -------------------------
OVERLAY = ROOT / "seed_dialogues" / "esconv_persona_replies_en.jsonl"


@pytest.fixture(scope="module")
def esconv_train():
    from empath._data import shared_data_dir
    from empath.dialogue import read_esconv

    path = shared_data_dir() / "esconv" / "train.jsonl"
    if not path.exists():
        pytest.skip(f"ESConv train not found at {path} (set EMPATH_SHARED_DATA)")
    return read_esconv(path)


def test_overlay_file_stores_only_references_and_our_replies():
    records = [json.loads(line) for line in OVERLAY.read_text(encoding="utf-8").splitlines()]
    assert all(set(r) == {"dialogue_id", "turn", "role", "strategy", "experience_id", "reply"} for r in records)
    assert len({(r["dialogue_id"], r["turn"]) for r in records}) == len(records)


def test_overlay_replies_answer_real_turns_in_every_personas_voice(esconv_train, experience_bank, classifier):
    from empath.dialogue.overlay import read_overlay
    from empath.postprocess import reply_problems
    from empath.prompts import wants_experience

    targets = read_overlay(OVERLAY, esconv_train)
    per = defaultdict(list)
    esconv_texts = {turn.text.strip() for d in esconv_train for turn in d.turns}
    for t in targets:
        per[t.role].append(t)
        assert t.target.text not in esconv_texts  # our words, not a copied ESConv turn
        assert reply_problems(t.target.text, "en") == [], t.target.text
        assert 8 <= len(t.target.text.split()) <= 50, t.target.text
        # an experience exactly where serving puts one, and always one of the persona's own
        assert bool(t.target.experience_id) == wants_experience(t.target.strategy), t
        if t.target.experience_id:
            assert experience_bank.get(t.target.experience_id).role == t.role
    assert set(per) == set(load_roles().ids) and min(len(v) for v in per.values()) >= 100
    assert all(len({t.target.strategy for t in v}) == 8 for v in per.values())
    # the replies carry the persona (the classifier never saw them): far above chance (1/9)
    assert classifier.score([t.target.text for t in targets], [t.role for t in targets]) >= 0.4


def test_overlay_turns_are_not_the_recipes_esconv_turns(esconv_train):
    """The recipe's own ESConv sample (stage 1 and the fresh turns of stage 2) and the overlay are disjoint, so
    no ESConv turn is trained both with the human reply and with ours."""
    from empath.dialogue.overlay import read_overlay
    from empath.hub import DEFAULT_BASE_MODEL
    from training.train_demo_adapter import adapter_config, build_parser, esconv_turns

    args = build_parser().parse_args(["--out", "unused"])
    support, fresh = esconv_turns(esconv_train, adapter_config(args, DEFAULT_BASE_MODEL), args)
    assert (len(support), len(fresh)) == (args.support_examples, args.persona_esconv_examples)
    used = {id(target) for _, _, target in support + fresh}
    by_turn = {(d.id, i): id(turn) for d in esconv_train for i, turn in enumerate(d.turns)}
    overlay = read_overlay(OVERLAY, esconv_train)
    assert not {by_turn[(t.dialogue_id, len(t.context))] for t in overlay} & used


def test_stage_two_trains_on_the_overlay_with_the_served_prompt(esconv_train):
    """With ``--voice-repeat 1`` stage 2's data holds every overlay reply once, as a reply-only target after the
    compact serving prompt (persona name, skill, and the persona's memory on comforting turns)."""
    from empath.hub import DEFAULT_BASE_MODEL
    from tests._tiny import smollm_tokenizer
    from training import train_demo_adapter as recipe

    tok = smollm_tokenizer()
    args = recipe.build_parser().parse_args(["--out", "unused", "--seed-repeat", "0", "--persona-esconv-examples", "0",
                                             "--voice-repeat", "1"])
    config = recipe.adapter_config(args, DEFAULT_BASE_MODEL)
    data = recipe.stage_data("persona", args, tok, config)
    args.voice_repeat = 0  # the default: the shipped adapter was trained without the overlay
    assert recipe.stage_data("persona", args, tok, config) == []
    records = [json.loads(line) for line in OVERLAY.read_text(encoding="utf-8").splitlines()]
    assert len(data) == len(records)
    targets = {tok.decode([i for i in ex["labels"] if i != -100], skip_special_tokens=True).strip(): ex for ex in data}
    record = next(r for r in records if r["experience_id"])
    example = targets[record["reply"].strip()]
    prompt = tok.decode([i for i, label in zip(example["input_ids"], example["labels"]) if label == -100])
    role = load_roles().get(record["role"])
    assert role.name("en") in prompt and "memory" in prompt.lower()
    assert config.role_names[example["role_ids"]] == record["role"]
    assert config.strategy_names[example["strategy_ids"]] == record["strategy"]


def test_generate_persona_replies_forces_every_persona(tmp_path):
    """training.generate_persona_replies: each sampled turn answered once per persona, the persona forced."""
    import json

    from tests.test_pipeline import make_pipeline
    from training.generate_persona_replies import main

    pipe, parts = make_pipeline()
    data = Path(__file__).parent / "fixtures" / "dialogue" / "esconv_hf.jsonl"
    out = tmp_path / "replies.jsonl"
    assert main(["--data", str(data), "--format", "esconv", "--turns", "2", "--out", str(out)], pipeline=pipe) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 2 * len(pipe.roles.ids)
    assert sorted({r["role"] for r in rows}) == sorted(pipe.roles.ids)
    assert parts["role_matcher"].calls == []  # forced, never matched
    with pytest.raises(SystemExit):  # an out-of-range guidance is a usage error, before any model loads
        main(["--data", str(data), "--out", str(out), "--persona-guidance", "9"], pipeline=pipe)
    replies = []
    for seed in ("0", "1"):  # greedy decoding ignores the seed; the app's sampling does not
        for decoding in ("greedy", "app"):
            assert main(["--data", str(data), "--format", "esconv", "--turns", "2", "--out", str(out), "--seed", seed,
                         "--decoding", decoding], pipeline=pipe) == 0
            replies.append([json.loads(line)["reply"] for line in out.read_text().splitlines()])
    assert replies[0] == replies[2] and replies[1] != replies[3]
    with pytest.raises(SystemExit):  # an unknown decoding is a usage error too
        main(["--data", str(data), "--out", str(out), "--decoding", "beam"], pipeline=pipe)
