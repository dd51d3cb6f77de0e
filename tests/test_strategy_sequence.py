"""The ``sequence-gru`` strategy predictor: numpy inference = the torch model it was trained as, prefix memo,
training script -> folder -> StrategyPredictor / evaluate CLI / pipeline, and the shipped head on ESConv valid."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from empath.classifiers import CachedEncoder, StrategyPredictor, register_encoder
from empath.dialogue import Background, Dialogue, Turn, write_jsonl
from empath.strategies import STRATEGY_NAMES
from empath.strategy_sequence import SEQUENCE, SequenceScorer
from training import train_strategy_sequence as tss
from training.evaluate_classifiers import main as evaluate_main
from training.train_classifiers import strategy_examples


class HashEncoder:
    """Deterministic 8-d unit vectors keyed by the text (no model to load)."""

    name = "test-hash-8"
    dim = 8

    def encode(self, texts, batch_size: int = 64):
        out = np.zeros((len(texts), self.dim), np.float32)
        for i, text in enumerate(texts):
            seed = int(hashlib.md5(text.encode("utf-8")).hexdigest()[:8], 16)
            out[i] = np.random.default_rng(seed).normal(size=self.dim)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


@pytest.fixture(autouse=True)
def hash_encoder():
    import torch

    torch.set_num_threads(1)
    register_encoder(HashEncoder())


def _dialogues(n: int = 12) -> list[Dialogue]:
    """Seeker questions are answered with Information, complaints with Reflection, then a Question."""
    out = []
    for i in range(n):
        turns = [Turn("seeker", f"hello {i}"), Turn("supporter", "Hi, what brings you here?", "Question")]
        for j in range(3):
            if (i + j) % 2:
                turns += [Turn("seeker", f"what should I do about my exam {j}?"),
                          Turn("supporter", "Many students find a study plan helps.", "Information")]
            else:
                turns += [Turn("seeker", f"I feel awful {i} {j}"),
                          Turn("supporter", "That sounds so painful.", "Reflection of feelings"),
                          Turn("supporter", "How long has it been like this?", "Question")]
        out.append(Dialogue(f"toy-{i}", Background(description=f"exam stress {i % 3}"), turns))
    return out


def test_numpy_inference_equals_the_torch_model():
    import torch

    dialogues = _dialogues(4)
    records = tss.dialogue_records(dialogues, CachedEncoder(HashEncoder(), max_items=None))
    torch.manual_seed(0)
    models = [tss.build_model(records[0]["x"].shape[1], 8, records[0]["flat"].shape[1], 8, 0.0, 0.0) for _ in range(2)]
    torch_proba = np.mean([tss.softmax(tss.predict_logits(m, records)[0]) for m in models], 0)
    scorer = SequenceScorer(HashEncoder.name, tss.export(models, STRATEGY_NAMES, np.zeros(len(STRATEGY_NAMES))))
    items, _ = strategy_examples(dialogues)
    np.testing.assert_allclose(scorer.proba(items), torch_proba, atol=1e-5)
    # the prefix memo changes nothing: again, in reverse order, and from a fresh scorer one by one
    np.testing.assert_allclose(scorer.proba(items[::-1])[::-1], torch_proba, atol=1e-5)
    fresh = SequenceScorer(HashEncoder.name, scorer.model)
    np.testing.assert_allclose(np.concatenate([fresh.proba([x]) for x in items]), torch_proba, atol=1e-5)


def test_logit_bias_shifts_the_probabilities():
    import torch

    dialogues = _dialogues(2)
    records = tss.dialogue_records(dialogues, CachedEncoder(HashEncoder(), max_items=None))
    torch.manual_seed(0)
    model = tss.build_model(records[0]["x"].shape[1], 8, records[0]["flat"].shape[1], 8, 0.0, 0.0)
    bias = np.zeros(len(STRATEGY_NAMES))
    bias[STRATEGY_NAMES.index("Self-disclosure")] = 50.0
    scorer = SequenceScorer(HashEncoder.name, tss.export([model], STRATEGY_NAMES, bias))
    items, _ = strategy_examples(dialogues)
    assert (scorer.proba(items).argmax(1) == STRATEGY_NAMES.index("Self-disclosure")).all()


def test_look_ahead_targets_are_what_follows_each_supporter_turn():
    """Each supporter turn's targets: the seeker's next message after it and the next supporter strategy (training
    only; a supporter turn right after another still points past it to the seeker)."""
    turns = [Turn("seeker", "a"), Turn("supporter", "b", "Question"), Turn("supporter", "c", "Information"),
             Turn("seeker", "d"), Turn("supporter", "e", "Self-disclosure")]
    emb = np.arange(len(turns) * 2, dtype=np.float32).reshape(len(turns), 2)
    y = np.array([-1, STRATEGY_NAMES.index("Question"), STRATEGY_NAMES.index("Information"), -1,
                  STRATEGY_NAMES.index("Self-disclosure")])
    got = tss.look_ahead_targets(turns, emb, y)
    assert got["has_next"].tolist() == [0, 1, 1, 0, 0]  # the last supporter turn has no seeker reply after it
    np.testing.assert_array_equal(got["next_emb"][1], emb[3])
    np.testing.assert_array_equal(got["next_emb"][2], emb[3])
    assert got["next_y"].tolist() == [-1, STRATEGY_NAMES.index("Information"), STRATEGY_NAMES.index("Self-disclosure"),
                                      -1, -1]


def test_look_ahead_training_exports_the_same_predictor_shape(tmp_path):
    """The look-ahead heads change training only: the exported members have the plain model's parameters."""
    write_jsonl(_dialogues(6), tmp_path / "toy.jsonl")
    original = tss.embedding_cache
    tss.embedding_cache = lambda name, use_cache=True: CachedEncoder(HashEncoder(), max_items=None)
    try:
        for name, extra in (("plain", []), ("ahead", ["--next-message-weight", "1", "--next-strategy-weight", "1"])):
            assert tss.main(["--esconv", "", "--jsonl", str(tmp_path / "toy.jsonl"), "--output", str(tmp_path / name),
                             "--encoder", HashEncoder.name, "--folds", "2", "--hidden", "8", "--epochs", "3",
                             "--no-progress", *extra]) == 0
    finally:
        tss.embedding_cache = original
    plain, ahead = (StrategyPredictor.load(tmp_path / name) for name in ("plain", "ahead"))
    settings = json.loads((tmp_path / "ahead" / "config.json").read_text())["strategy"]["training"]["settings"]
    assert settings["next_message_weight"] == 1 and settings["next_strategy_weight"] == 1
    shapes = [{k: v.shape for k, v in p.scorers["en"].model.params.items()} for p in (plain, ahead)]
    assert shapes[0] == shapes[1]
    items, _ = strategy_examples(_dialogues(2))
    assert not np.allclose(plain.scorers["en"].proba(items), ahead.scorers["en"].proba(items))  # the extra loss trained


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The training script on toy dialogues (2 folds), written to a classifier folder."""
    import torch

    torch.set_num_threads(1)
    register_encoder(HashEncoder())
    tmp = tmp_path_factory.mktemp("sequence")
    write_jsonl(_dialogues(), tmp / "toy.jsonl")
    original = tss.embedding_cache
    tss.embedding_cache = lambda name, use_cache=True: CachedEncoder(HashEncoder(), max_items=None)
    try:
        assert tss.main(["--esconv", "", "--jsonl", str(tmp / "toy.jsonl"), "--output", str(tmp / "cls"),
                         "--encoder", HashEncoder.name, "--folds", "2", "--hidden", "8", "--epochs", "30",
                         "--dropout", "0.1", "--lr", "0.01", "--no-progress"]) == 0
    finally:
        tss.embedding_cache = original
    return tmp


def test_training_script_writes_a_folder_the_predictor_loads(trained):
    config = json.loads((trained / "cls" / "config.json").read_text())
    head = config["strategy"]["heads"]["en"]
    assert head["backend"] == SEQUENCE and head["weights"].endswith(".safetensors")
    assert config["strategy"]["training"]["folds"] == 2
    predictor = StrategyPredictor.load(trained / "cls")
    pred = predictor.predict(Background(description="exam stress 1"),
                             [Turn("seeker", "hello"), Turn("supporter", "Hi!", "Question"), Turn("seeker", "I feel awful 0 0")])
    assert pred.strategy in STRATEGY_NAMES and sum(pred.probs.values()) == pytest.approx(1.0, abs=1e-5)
    assert predictor.predict(None, [Turn("seeker", "你好")]).lang == "zh"  # one head serves both languages


def test_evaluate_cli_reproduces_the_predictor(trained, capsys):
    predictor = StrategyPredictor.load(trained / "cls")
    items, gold = strategy_examples(_dialogues())
    direct = np.mean([p.strategy == g for p, g in zip(predictor.predict_batch(items), gold)])
    assert direct > 0.5  # the toy rule is learnable
    assert evaluate_main(["--data", str(trained / "toy.jsonl"), "--format", "jsonl", "--classifiers",
                          str(trained / "cls"), "--tasks", "strategy", "--json", "--no-progress"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["strategy"]["n"] == len(gold)
    assert result["strategy"]["accuracy"] == pytest.approx(direct)
    assert 0 <= result["strategy"]["macro_f1"] <= 1 and result["strategy"]["top3"] >= result["strategy"]["accuracy"]


def test_pipeline_uses_the_sequence_predictor(trained):
    from tests.test_pipeline import QUICK, make_pipeline

    from empath.pipeline import Conversation

    predictor = StrategyPredictor.load(trained / "cls")
    pipe, _ = make_pipeline(strategy_predictor=predictor)
    result = pipe.respond(Conversation(), "I feel awful about my exam.", settings=QUICK)
    assert result.strategy in STRATEGY_NAMES and result.strategy_source == "predicted"
