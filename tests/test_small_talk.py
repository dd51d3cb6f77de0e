"""Whether a seeker's words name a topic (empath/small_talk.py)."""

import pytest

from empath import small_talk
from empath._data import DataFileError
from empath.small_talk import names_a_topic


@pytest.mark.parametrize("text", ["hi", "Hello, how are you?", "hey what's up", "I need someone to talk to",
                                  "hi, I just wanted to vent a bit", "I'm not sure how to start", "can we chat?",
                                  "Good morning!", "thank you", "你好，在吗", "在吗？想找人聊聊", "有人在吗？", "嗨"])
def test_greetings_and_asking_to_talk_name_no_topic(text):
    assert not names_a_topic(text)


@pytest.mark.parametrize("text", ["I lost my job", "my ex left me", "I'm sad", "I feel so alone since the breakup.",
                                  "exams are killing me", "我最近总是失眠", "老公出轨了", "我好难受"])
def test_a_word_of_the_seekers_own_matter_names_one(text):
    assert names_a_topic(text)


def test_the_language_can_be_given():
    assert names_a_topic("我最近总是失眠", "zh") and not names_a_topic("hello", "en")


def test_a_malformed_list_is_reported_with_the_file(tmp_path, monkeypatch):
    broken = tmp_path / "small_talk.yaml"
    broken.write_text("en:\n  words: [hi, hello]\n", encoding="utf-8")
    monkeypatch.setattr(small_talk, "SMALL_TALK_FILE", broken)
    small_talk._lists.cache_clear()
    try:
        with pytest.raises(DataFileError, match="small_talk.yaml"):
            names_a_topic("hello")
    finally:
        small_talk._lists.cache_clear()
