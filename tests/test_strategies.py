import pytest

from empath.strategies import (STRATEGY_NAMES, UnknownStrategyError, normalize_strategy, stage_of,
                               strategies, strategies_in_stage)

ESCONV_SPELLING = ["Question", "Restatement or Paraphrasing", "Reflection of feelings", "Self-disclosure",
                   "Affirmation and Reassurance", "Providing Suggestions", "Information", "Others"]


def test_canonical_names_are_esconv_spelling():
    assert list(STRATEGY_NAMES) == ESCONV_SPELLING


def test_esconv_bracketed_labels_from_shared_data(shared_data):
    import json

    labels = json.loads((shared_data / "esconv" / "strategy.json").read_text())
    assert [normalize_strategy(x) for x in labels] == ESCONV_SPELLING


@pytest.mark.parametrize("alias,canonical", [
    ("Questions", "Question"), ("Other", "Others"), ("[Question]", "Question"), ("  question ", "Question"),
    ("Restatement", "Restatement or Paraphrasing"), ("Approval and Reassurance", "Affirmation and Reassurance"),
    ("Direct Guidance", "Providing Suggestions"), ("Interpretation", "Information"),
    ("【提问】", "Question"), ("情感反映", "Reflection of feelings"),
])
def test_aliases(alias, canonical):
    assert normalize_strategy(alias) == canonical


@pytest.mark.parametrize("bad", ["", "   ", "Hypnosis", None])
def test_unknown_or_empty_labels_fail_clearly(bad):
    with pytest.raises(UnknownStrategyError, match="valid: Question"):
        normalize_strategy(bad)


def test_stages_partition_the_strategies():
    by_stage = {s: strategies_in_stage(s) for s in ("exploration", "comforting", "action")}
    assert sorted(sum(by_stage.values(), [])) == sorted(ESCONV_SPELLING)
    assert by_stage["exploration"] == ["Question", "Restatement or Paraphrasing"]
    assert "Providing Suggestions" in by_stage["action"] and stage_of("Information") == "action"
    with pytest.raises(KeyError, match="valid"):
        strategies_in_stage("meditation")


def test_definitions_exist_in_both_languages():
    for s in strategies():
        assert len(s.definition("en")) > 30 and s.definition("zh")
