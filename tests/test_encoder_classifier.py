"""empath.encoder_classifier: a LoRA-tuned sentence encoder with a linear head (the crisis detector's encoder head)."""

import json

import numpy as np
import pytest

from empath.encoder_classifier import CONFIG_NAME, EncoderClassifier, EncoderClassifierConfig, train_encoder_classifier

LABELS = ("calm", "alarm")
CALM = ["had a lovely walk with the dog", "baked bread this morning", "my exam went fine today",
        "watching a film with friends tonight", "the garden is finally blooming", "we went swimming at the lake"]
ALARM = ["there is smoke pouring out of the kitchen", "the house is on fire, get out", "flames in the hallway now",
         "fire alarm going off and the stairs are burning", "smoke everywhere, I can't breathe", "the roof caught fire"]


@pytest.fixture(scope="module")
def trained():
    """A tiny classifier fitted on CPU in a few seconds (rank 4, all-MiniLM-L6-v2)."""
    config = EncoderClassifierConfig(rank=4, alpha=8, epochs=12, batch_size=4, learning_rate=2e-3, seed=0)
    texts = CALM + ALARM
    labels = [0] * len(CALM) + [1] * len(ALARM)
    return train_encoder_classifier(texts, labels, LABELS, [1.0] * len(texts), config, progress=False)


def test_training_separates_the_classes(trained):
    """Held-out phrasings land on the right side after training."""
    proba = trained.predict_proba(["a quiet evening reading a novel", "the kitchen is full of smoke and flames"])
    assert proba.shape == (2, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    assert proba[0, 0] > 0.5 and proba[1, 1] > 0.5


def test_save_and_load_give_the_same_probabilities(trained, tmp_path):
    """The saved folder names its base encoder (not a local path), has no pickle, and loads (LoRA merged) to the
    same probabilities."""
    folder = trained.save(tmp_path / "head")
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["adapter_config.json", "adapter_model.safetensors", CONFIG_NAME, "head.safetensors"]
    assert json.loads((folder / "adapter_config.json").read_text())["base_model_name_or_path"] == "all-minilm-l6-v2"
    config = json.loads((folder / CONFIG_NAME).read_text())
    assert config["labels"] == list(LABELS) and config["rank"] == 4
    loaded = EncoderClassifier.load(folder, device="cpu")
    texts = CALM[:2] + ALARM[:2] + ["something else entirely"]
    np.testing.assert_allclose(loaded.predict_proba(texts), trained.predict_proba(texts), atol=1e-5)
    assert loaded.labels == LABELS


def test_a_broken_folder_is_a_clear_error(tmp_path):
    from empath._data import DataFileError

    with pytest.raises(DataFileError, match="not found"):
        EncoderClassifier.load(tmp_path)
    (tmp_path / CONFIG_NAME).write_text("{not json")
    with pytest.raises(DataFileError, match="unreadable"):
        EncoderClassifier.load(tmp_path)


def test_no_texts_give_an_empty_array(trained):
    assert trained.predict_proba([]).shape == (0, 2)


def test_training_goes_on_from_a_saved_classifier(trained, tmp_path):
    """``init`` starts from a saved folder: its rank and encoder are kept whatever the config says, zero epochs give
    back its probabilities, and more epochs on new examples move it toward them."""
    folder = trained.save(tmp_path / "head")
    probe = ["the basement is flooding fast", "water is pouring through the ceiling", "a quiet evening with tea"]
    same = train_encoder_classifier(CALM, [0] * len(CALM), LABELS, None, EncoderClassifierConfig(rank=16, epochs=0),
                                    progress=False, init=folder)
    assert same.config.rank == 4
    np.testing.assert_allclose(same.predict_proba(probe), trained.predict_proba(probe), atol=1e-5)
    flood = ["the basement is flooding", "water coming up through the floor", "the river burst into the house",
             "pipes burst and the kitchen is under water"]
    config = EncoderClassifierConfig(epochs=10, batch_size=4, learning_rate=2e-3, seed=0)
    more = train_encoder_classifier(CALM + ALARM + flood, [0] * len(CALM) + [1] * (len(ALARM) + len(flood)), LABELS,
                                    None, config, progress=False, init=folder)
    assert more.predict_proba(probe[:2])[:, 1].min() > trained.predict_proba(probe[:2])[:, 1].max()
    assert more.predict_proba(probe[2:])[0, 0] > 0.5
    with pytest.raises(ValueError, match="labels"):
        train_encoder_classifier(CALM, [0] * len(CALM), ("a", "b"), None, config, progress=False, init=folder)
