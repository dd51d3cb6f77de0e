"""Role matching and strategy prediction: formatting, training, evaluation, save/load, errors."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from empath.classifiers import (ClassifierInputError, FrozenEncoderScorer, MLPHead, RoleMatcher,
                                SimilarityScorer, StrategyPredictor, UnknownLabelError, format_role_input,
                                format_strategy_input, load_classifiers, register_encoder, strategy_features,
                                strategy_structure)
from empath.dialogue import Background, Dialogue, Turn, write_jsonl
from empath.roles import load_roles
from empath.strategies import STRATEGY_NAMES, UnknownStrategyError
from training.classifier_training import finetune_sequence_classifier, train_head
from training.evaluate_classifiers import classification_metrics
from training.evaluate_classifiers import main as evaluate_main
from training.train_classifiers import role_examples, strategy_examples

# -- a tiny deterministic encoder: one dimension per topic word ----------------------------------
TOPIC_WORDS = {  # role id -> words that put a text on that role's axis
    "harry_potter": ("job", "boss", "work", "工作"),
    "juliet": ("boyfriend", "girlfriend", "breakup", "恋爱"),
    "hanamichi_sakuragi": ("sad", "depressed", "lonely", "情绪"),
    "sun_wukong": ("exam", "study", "grades", "学业"),
    "xiao_longnu": ("married", "spouses", "divorce", "婚姻"),
}


class WordAxisEncoder:
    name = "test-word-axes"
    dim = len(TOPIC_WORDS) + 1

    def encode(self, texts, batch_size: int = 64):
        out = np.zeros((len(texts), self.dim), np.float32)
        for i, text in enumerate(texts):
            words = re.findall(r"\w+", text.lower())
            for j, vocab in enumerate(TOPIC_WORDS.values()):
                out[i, j] = sum(w in vocab or any(v in w for v in vocab if not v.isascii()) for w in words)
            out[i, -1] = 0.5  # bias so an empty-ish text is not a zero vector
        return out / np.linalg.norm(out, axis=1, keepdims=True)


@pytest.fixture(autouse=True)
def word_axis_encoder():
    register_encoder(WordAxisEncoder())


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """(matcher, predictor, folder) trained once for the module."""
    import torch

    torch.set_num_threads(1)
    register_encoder(WordAxisEncoder())
    folder = tmp_path_factory.mktemp("toy-classifiers")
    return (*_toy_classifiers(folder), folder)


def _toy_dialogues() -> list[Dialogue]:
    bank = load_roles()
    texts = {"harry_potter": "my boss fired me from work, the job was all I had",
             "juliet": "my girlfriend left me after the breakup",
             "hanamichi_sakuragi": "I feel sad and lonely every day",
             "sun_wukong": "my grades fell and the exam is close"}
    dialogues = []
    for i, (role, text) in enumerate(texts.items()):
        turns = [Turn("seeker", text), Turn("supporter", "How long has this been going on?", "Question"),
                 Turn("seeker", "A few weeks."), Turn("supporter", "That sounds really hard.", "Reflection of feelings"),
                 Turn("supporter", "You could talk to someone you trust.", "Providing Suggestions")]
        dialogues.append(Dialogue(f"toy-{i}", Background(description=text, role=role, topic=bank.get(role).topic),
                                  turns))
    return dialogues


def _toy_classifiers(tmp_path):
    """A role head on four roles + a strategy head, both on the word-axis encoder, saved and reloaded."""
    dialogues = _toy_dialogues()
    encoder = WordAxisEncoder()
    bgs, ys = role_examples(dialogues)
    role_names = [r for r in load_roles().ids if r in ys]
    x = encoder.encode([format_role_input(b.question, b.description, b.keywords) for b in bgs])
    head, _ = train_head(np.tile(x, (20, 1)), ys * 20, role_names, hidden=(), epochs=60, lr=0.05,
                         input_dropout=0.0, label_smoothing=0.0, progress=False)
    matcher = RoleMatcher({"en": FrozenEncoderScorer("role", encoder.name, head)}, temperature=0.1)
    items, ys = strategy_examples(dialogues)
    feats = strategy_features(items, encoder)
    shead, _ = train_head(np.tile(feats, (10, 1)), ys * 10, STRATEGY_NAMES, hidden=(16,), epochs=40,
                          lr=0.01, progress=False)
    predictor = StrategyPredictor({"en": FrozenEncoderScorer("strategy", encoder.name, shead)})
    matcher.save(tmp_path)
    predictor.save(tmp_path)
    return matcher, predictor


# -- formatting ----------------------------------------------------------------------------------
def test_inputs_follow_equations_9_and_10():
    assert format_role_input("Why?", "I lost my job.", ["career", " stress "]) == \
        "[Ques]Why?;[Desc]I lost my job.;[Keys]career,stress"
    z = format_strategy_input("Why?", "D", (), [Turn("seeker", "hi"), Turn("supporter", "hello", "Others")])
    assert z.startswith("[Ques]Why?;[Desc]D;[Keys];[Cont]")
    assert "hi" in z and "[Others] hello" in z


def test_strategy_structure_sees_history_and_consecutive_turns():
    turns = [Turn("seeker", "hi"), Turn("supporter", "hey", "Question"), Turn("supporter", "tell me", "Question")]
    f = strategy_structure(turns)
    n = len(STRATEGY_NAMES) + 1
    assert f[STRATEGY_NAMES.index("Question")] == 1  # last strategy
    assert f[n + STRATEGY_NAMES.index("Question")] == 1  # the one before
    assert f[2 * n + STRATEGY_NAMES.index("Question")] == 1.0  # share of the history
    assert not np.array_equal(f, strategy_structure(turns[:2]))


# -- training --------------------------------------------------------------------------------------
def test_trainer_learns_a_separable_toy_task():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 8)) * 4
    y = rng.integers(0, 3, size=300)
    x = centres[y] + rng.normal(size=(300, 8))
    names = ["a", "b", "c"]
    labels = [names[i] for i in y]
    head, history = train_head(x[:200], labels[:200], names, (x[200:], labels[200:]), epochs=10, progress=False)
    assert history["valid_accuracy"][history["best_epoch"]] == max(history["valid_accuracy"])
    pred = [names[i] for i in head.proba(x[200:]).argmax(1)]
    assert np.mean([p == t for p, t in zip(pred, labels[200:])]) > 0.95
    # seeded: the same call gives the same weights
    again, _ = train_head(x[:200], labels[:200], names, (x[200:], labels[200:]), epochs=10, progress=False)
    np.testing.assert_array_equal(head.params["w0"], again.params["w0"])


def test_unknown_training_label_is_named():
    with pytest.raises(UnknownLabelError, match=r"unknown label 'd'; valid labels: a, b"):
        train_head(np.zeros((2, 3)), ["a", "d"], ["a", "b"], progress=False)


def test_head_save_load_roundtrip(tmp_path):
    head, _ = train_head(np.eye(4), ["a", "b", "a", "b"], ["a", "b"], epochs=2, progress=False)
    head.save(tmp_path / "h.safetensors")
    loaded = MLPHead.load(tmp_path / "h.safetensors")
    assert loaded.labels == ("a", "b")
    np.testing.assert_allclose(loaded.proba(np.eye(4)), head.proba(np.eye(4)), rtol=1e-6)


# -- predictors ------------------------------------------------------------------------------------
def test_saved_classifiers_reload_and_predict(toy):
    matcher, predictor, folder = toy
    config = json.loads((folder / "config.json").read_text())
    assert config["role"]["heads"]["en"]["backend"] == "frozen-encoder"
    role, strategy = load_classifiers(folder)
    pred = role.predict(description="my boss fired me and I have no job")
    assert pred.role == "harry_potter" and pred.source == "head"
    assert set(pred.probs) == set(load_roles().ids) and abs(sum(pred.probs.values()) - 1) < 1e-5
    assert pred.probs == matcher.predict(description="my boss fired me and I have no job").probs
    bg = Background(description="I feel sad and lonely")
    ctx = [Turn("seeker", "I feel sad"), Turn("supporter", "How long?", "Question"), Turn("seeker", "weeks")]
    s = strategy.predict(bg, ctx)
    assert s.strategy in STRATEGY_NAMES and set(s.probs) == set(STRATEGY_NAMES)
    assert s.probs == predictor.predict(bg, ctx).probs
    # the toy data always follows Reflection of feelings with Providing Suggestions
    follow = ctx + [Turn("supporter", "That sounds hard.", "Reflection of feelings")]
    assert strategy.predict(bg, follow).strategy == "Providing Suggestions"


def test_role_without_training_data_falls_back_to_topic_similarity(toy):
    matcher = toy[0]
    assert "xiao_longnu" in matcher.untrained_roles()
    pred = matcher.predict(question="We married young and now my husband wants a divorce; spouses who never talk")
    assert pred.role == "xiao_longnu" and pred.source == "similarity"
    # the head's own roles keep their order: the fallback only takes probability mass
    job = matcher.predict(description="my boss at work")
    assert job.role == "harry_potter"


def test_similarity_backend_scores_every_role():
    matcher = RoleMatcher({"zh": SimilarityScorer("role", WordAxisEncoder.name)}, "zh", temperature=0.1)
    pred = matcher.predict(question="我们结婚三年了，婚姻里总是吵架")
    assert pred.role == "xiao_longnu" and pred.lang == "zh"
    assert matcher.untrained_roles() == load_roles().ids


def test_empty_input_and_unknown_labels_raise_clear_errors(toy):
    matcher, predictor, _ = toy
    with pytest.raises(ClassifierInputError, match="question, a description or keywords"):
        matcher.predict()
    with pytest.raises(ClassifierInputError, match="background or at least one context turn"):
        predictor.predict(Background(), [])
    with pytest.raises(UnknownStrategyError, match="valid: Question"):
        predictor.predict(Background(description="sad"), [Turn("supporter", "hi", "Cheerleading")])
    with pytest.raises(ClassifierInputError, match="speaker must be"):
        predictor.predict(Background(description="sad"), [Turn("therapist", "hi")])


# -- evaluation ------------------------------------------------------------------------------------
def test_metrics_equal_a_hand_computation():
    m = classification_metrics(["a", "a", "b", "b", "c"], ["a", "b", "b", "b", "a"], ["a", "b", "c"])
    # a: tp 1, fp 1, fn 1 -> P = R = F1 = 1/2; b: tp 2, fp 1 -> P 2/3, R 1, F1 0.8; c: all 0
    assert m["n"] == 5 and m["accuracy"] == pytest.approx(3 / 5)
    assert m["per_class"]["b"] == pytest.approx({"precision": 2 / 3, "recall": 1.0, "f1": 0.8, "support": 2})
    assert m["weighted_f1"] == pytest.approx((2 * 0.5 + 2 * 0.8 + 1 * 0.0) / 5)


def test_evaluate_cli_on_a_fixture_matches_hand_computation(toy, tmp_path, capsys):
    bank = load_roles()
    cases = [("my boss at work is awful", "harry_potter"), ("exam grades study", "sun_wukong"),
             ("sad and lonely", "hanamichi_sakuragi"), ("boss job work", "juliet")]  # last one: gold is wrong
    dialogues = [Dialogue(f"d{i}", Background(description=t, role=r, topic=bank.get(r).topic),
                          [Turn("seeker", t), Turn("supporter", "I hear you.", "Reflection of feelings")])
                 for i, (t, r) in enumerate(cases)]
    path = tmp_path / "eval.jsonl"
    write_jsonl(dialogues, path)
    assert evaluate_main(["--data", str(path), "--format", "jsonl", "--classifiers", str(toy[2]),
                          "--json", "--no-progress"]) == 0
    out = capsys.readouterr().out
    result = json.loads(out.strip().splitlines()[-1])
    role = result["role"]
    # predictions: naruto, sun_wukong, hanamichi, naruto -> 3 of 4 right; naruto P = 1/2, R = 1
    assert role["n"] == 4 and role["accuracy"] == pytest.approx(0.75)
    assert role["per_class"]["harry_potter"]["precision"] == pytest.approx(0.5)
    assert role["per_class"]["juliet"]["recall"] == 0.0
    assert role["weighted_f1"] == pytest.approx((1 * 2 / 3 + 1 + 1 + 0) / 4)
    assert result["strategy"]["n"] == 4 and set(result["strategy"]) >= {"accuracy", "weighted_f1", "per_class"}
    assert "Role matching" in out and "Weighted F1" in out


def test_evaluate_without_strategy_labels_reports_null(toy, tmp_path, capsys):
    d = Dialogue("x", Background(description="sad", role="hanamichi_sakuragi"), [Turn("seeker", "sad")])
    write_jsonl([d], tmp_path / "e.jsonl")
    evaluate_main(["--data", str(tmp_path / "e.jsonl"), "--format", "jsonl", "--classifiers",
                   str(toy[2]), "--json", "--no-progress"])
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["strategy"] is None and result["role"]["n"] == 1


def test_evaluate_one_task_and_write_per_example_predictions(toy, tmp_path, capsys):
    turns = [Turn("seeker", "my boss at work"), Turn("supporter", "What happened?", "Question")]
    d = Dialogue("x", Background(description="job work", role="harry_potter"), turns)
    write_jsonl([d], tmp_path / "e.jsonl")
    preds = tmp_path / "preds.jsonl"
    assert evaluate_main(["--data", str(tmp_path / "e.jsonl"), "--format", "jsonl", "--classifiers", str(toy[2]),
                          "--tasks", "strategy", "--predictions", str(preds), "--json", "--no-progress"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["role"] is None and result["strategy"]["n"] == 1
    (record,) = [json.loads(line) for line in preds.read_text().splitlines()]
    assert record["task"] == "strategy" and record["gold"] == "Question"
    assert record["pred"] == max(record["probs"], key=record["probs"].get)
    assert sum(record["probs"].values()) == pytest.approx(1.0, abs=1e-4)


def test_validation_skips_roles_the_training_data_lacks(capsys):
    from training.train_classifiers import validation_role_examples

    valid = [Dialogue("a", Background(description="my boss", role="harry_potter"), []),
             Dialogue("b", Background(description="my exam", role="sun_wukong"), [])]
    backgrounds, labels = validation_role_examples(valid, ["harry_potter", "juliet"])
    assert labels == ["harry_potter"] and backgrounds[0].description == "my boss"
    assert "1 backgrounds of roles absent from training skipped" in capsys.readouterr().err


def test_role_crossvalidation_scores_every_fold():
    from training.crossvalidate_roles import crossvalidate

    texts = ["my boss at work", "exam grades study", "sad and lonely"] * 4 + ["boss work"]  # last one mislabelled
    labels = ["harry_potter", "sun_wukong", "hanamichi_sakuragi"] * 4 + ["sun_wukong"]
    result = crossvalidate(texts, labels, WordAxisEncoder(), folds=4)
    assert result["n"] == 13 and len(result["accuracy"]["per_fold"]) == 4
    assert result["accuracy"]["mean"] == pytest.approx(np.mean(result["accuracy"]["per_fold"]))
    assert 0.8 <= result["accuracy"]["mean"] < 1.0  # separable except the one mislabelled text


def test_esconv_examples_include_consecutive_supporter_turns():
    d = _toy_dialogues()[0]
    items, labels = strategy_examples([d])
    assert labels == ["Question", "Reflection of feelings", "Providing Suggestions"]
    assert items[2][1][-1].speaker == "supporter"  # the context of the second of two supporter turns


# -- full fine-tuning backend --------------------------------------------------------------------
def _tiny_bert(tmp_path, num_labels: int):
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[", "]", ";", ",", "ques", "desc", "keys", "cont",
             "good", "bad", "day", "job", "lost", "happy"]
    tokenizer = BertTokenizerFast(vocab={w: i for i, w in enumerate(words)})
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(words), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=64, num_labels=num_labels,
                        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, initializer_range=0.3)
    return BertForSequenceClassification(config), tokenizer


def test_finetune_backend_learns_and_reloads(tmp_path):
    model, tokenizer = _tiny_bert(tmp_path, 2)
    texts = [format_role_input("", t, ()) for t in ["good happy day", "bad lost job"] * 16]
    labels = ["juliet", "harry_potter"] * 16
    scorer, metrics = finetune_sequence_classifier(
        model, tokenizer, "role", texts, labels, ["juliet", "harry_potter"], tmp_path / "run",
        valid=(texts[:4], labels[:4]), epochs=8, learning_rate=5e-3, batch_size=8, use_cpu=True, disable_tqdm=True)
    assert metrics["eval_accuracy"] == 1.0
    RoleMatcher({"en": scorer}, fallback_encoders={"en": WordAxisEncoder.name}).save(tmp_path / "clf")
    matcher = RoleMatcher.load(tmp_path / "clf")
    assert matcher.scorers["en"].backend == "sequence-classification"
    pred = matcher.predict(description="bad lost job")
    assert pred.role == "harry_potter" and pred.probs["harry_potter"] > 0.5


def test_finetuned_strategy_input_keeps_the_latest_turns_when_cut(tmp_path):
    from empath.classifiers import SequenceClassifierScorer, tokenize_inputs

    model, tokenizer = _tiny_bert(tmp_path, len(STRATEGY_NAMES))
    model.config.id2label = dict(enumerate(STRATEGY_NAMES))
    scorer = SequenceClassifierScorer("strategy", model, tokenizer, max_length=24, max_turns=None)
    turns = [Turn("seeker", "good day " * 5), Turn("supporter", "good", "Question"), Turn("seeker", "lost job happy")]
    pair = scorer.text((Background(description="bad day"), turns))
    ids = tokenize_inputs(tokenizer, [pair], max_length=24)["input_ids"][0]
    words = tokenizer.convert_ids_to_tokens(ids)
    assert len(ids) == 24 and words[-4:] == ["lost", "job", "happy", "[SEP]"]  # the latest turn survives
    first_sep = words.index("[SEP]")
    assert words[first_sep - 6:first_sep] == ["bad", "day", ";", "[", "keys", "]"]  # the background stays in front
    assert tokenizer.truncation_side == "right"  # restored for other users of the tokenizer
    plain = tokenize_inputs(tokenizer, ["good " * 40], max_length=24)["input_ids"][0]
    assert len(plain) == 24 and plain[-1] == tokenizer.sep_token_id
    assert scorer.proba([(Background(description="bad day"), turns)]).shape == (1, len(STRATEGY_NAMES))


def test_finetuned_role_matcher_without_fallback_loads_no_encoder(tmp_path):
    model, tokenizer = _tiny_bert(tmp_path, 2)
    model.config.id2label = {0: "juliet", 1: "harry_potter"}
    from empath.classifiers import SequenceClassifierScorer

    scorer = SequenceClassifierScorer("role", model, tokenizer)
    matcher = RoleMatcher({"en": scorer}, fallback=False, fallback_encoders={"en": "no-such-encoder"})
    pred = matcher.predict(description="bad lost job")
    assert set(p for p, v in pred.probs.items() if v > 0) <= {"juliet", "harry_potter"}
    with pytest.raises(Exception, match="no-such-encoder"):  # with the fallback on, the encoder is needed
        RoleMatcher({"en": scorer}, fallback_encoders={"en": "no-such-encoder"}).predict(description="bad lost job")


def test_finetune_rejects_unknown_labels(tmp_path):
    model, tokenizer = _tiny_bert(tmp_path, 2)
    with pytest.raises(UnknownLabelError, match="valid labels: a, b"):
        finetune_sequence_classifier(model, tokenizer, "role", ["good"], ["z"], ["a", "b"], tmp_path / "run")


def test_shipped_default_is_small_and_matches_the_role_bank():
    from empath.classifiers import DEFAULT_CLASSIFIERS

    size = sum(f.stat().st_size for f in DEFAULT_CLASSIFIERS.iterdir())
    assert size < 5 * 2**20
    matcher, predictor = load_classifiers()  # encoders load lazily: nothing is encoded here
    assert set(matcher.scorers) == {"en", "zh"} and set(predictor.scorers) == {"en", "zh"}
    assert matcher.untrained_roles("en") == []  # marriage, absent from ESConv, is learned from psyqa_en/train.json
    assert predictor.scorers["en"].labels == STRATEGY_NAMES
