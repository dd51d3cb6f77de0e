"""Chinese role matching on PsyQA-format questions (issue 14, part 1): the data, the keyword table, and the
shipped classifiers measured on the held-out fixture (never trained or tuned on)."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from empath._data import REPO_ROOT
from empath.classifiers import RoleMatcher, Scorer, keyword_role
from empath.dialogue import read_psyqa
from empath.roles import load_roles
from training.evaluate_classifiers import evaluate

HELDOUT = REPO_ROOT / "tests" / "fixtures" / "psyqa_zh_roles.json"
TRAIN = REPO_ROOT / "training" / "data" / "psyqa_zh" / "train.json"
# measured once with the shipped classifiers (`python -m training.evaluate_classifiers --data
# tests/fixtures/psyqa_zh_roles.json --format psyqa --tasks role [--no-keywords]`), minus a margin
HELDOUT_MIN_F1_NO_KEYWORDS = 0.85  # measured 0.893 (accuracy 0.896)
HELDOUT_MIN_F1_KEYWORDS = 0.95


def _records(path):
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path, per_topic, min_length", [(TRAIN, 40, 50), (HELDOUT, 15, 60)])
def test_psyqa_sets_have_the_psyqa_shape(path, per_topic, min_length):
    records = _records(path)
    bank = load_roles()
    topics = Counter(r["keywords"].split(",")[0] for r in records)
    assert set(topics) == {t.name_zh for t in bank.topics} and min(topics.values()) >= per_topic
    for r in records:
        assert {"questionID", "question", "description", "keywords", "answers"} <= set(r)
        assert r["question"].strip() and min_length <= len(r["description"]) <= 400
        assert len(r["keywords"].split(",")) >= 2  # the topic, then what the question is about
    assert len({r["questionID"] for r in records}) == len(records)
    dialogues = read_psyqa(path)  # the project's PsyQA reader takes them; gold role = the topic's persona
    assert {d.background.role for d in dialogues} == set(bank.ids)


def test_held_out_questions_are_not_in_the_training_set():
    train = _records(TRAIN)
    seen = {r["question"] for r in train} | {r["description"] for r in train}
    for r in _records(HELDOUT):
        assert r["question"] not in seen and r["description"] not in seen


@pytest.mark.parametrize("keywords, role", [
    ("成长,迷茫", "sun_wukong"), (["婚姻", "出轨"], "xiao_longnu"), ("职业，裁员", "harry_potter"),
    (["Career"], "harry_potter"), (["family", "parents"], "big_big_wolf"), ("恋爱 分手", "juliet"),
])
def test_first_keyword_names_the_topic(keywords, role):
    assert keyword_role(keywords, load_roles()) == role


@pytest.mark.parametrize("keywords", [(), "", ["迷茫", "成长"], ["  "], None])
def test_keywords_that_name_no_topic_are_left_to_the_head(keywords):
    assert keyword_role(keywords, load_roles()) is None


class _Uniform(Scorer):
    """A scorer stand-in: every role equally likely."""

    def __init__(self, labels):
        self.labels = tuple(labels)
        self.extra = {}

    def proba(self, texts, progress=False):
        import numpy as np

        return np.full((len(texts), len(self.labels)), 1.0 / len(self.labels))


def test_topic_keyword_moves_the_probability_to_its_persona():
    from empath.classifiers import KEYWORD_WEIGHT

    bank = load_roles()
    matcher = RoleMatcher({"zh": _Uniform(bank.ids)}, "zh", fallback=False)
    pred = matcher.predict("怎么办", "老公最近总是很晚回家", ["婚姻", "信任"])
    assert pred.role == "xiao_longnu" and pred.source == "keyword"
    assert pred.probs["xiao_longnu"] == pytest.approx(KEYWORD_WEIGHT + (1 - KEYWORD_WEIGHT) / len(bank.ids))
    assert sum(pred.probs.values()) == pytest.approx(1.0)
    plain = matcher.predict("怎么办", "老公最近总是很晚回家", ["信任"])
    assert plain.source == "head"
    no_keys = matcher.predict_batch([read_psyqa(HELDOUT)[0].background], use_keywords=False)[0]
    assert no_keys.source == "head"


@pytest.fixture(scope="module")
def heldout_dialogues():
    return read_psyqa(HELDOUT)


@pytest.fixture(scope="module")
def shipped_matcher():
    return RoleMatcher.load()


def test_shipped_classifiers_on_the_held_out_questions_without_keywords(heldout_dialogues, shipped_matcher):
    result = evaluate(heldout_dialogues, shipped_matcher, None, use_keywords=False)["role"]
    assert result["n"] == 135 and result["lang"] == ["zh"]
    assert result["weighted_f1"] >= HELDOUT_MIN_F1_NO_KEYWORDS, result


def test_shipped_classifiers_on_the_held_out_questions_with_keywords(heldout_dialogues, shipped_matcher):
    result = evaluate(heldout_dialogues, shipped_matcher, None, use_keywords=True)["role"]
    assert result["weighted_f1"] >= HELDOUT_MIN_F1_KEYWORDS, result
