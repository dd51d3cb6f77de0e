"""empath/lang.py: which language a message is clearly written in."""

import pytest

from empath.lang import clearly_written_in


@pytest.mark.parametrize("message, expected", [
    ("我准备今天晚上去死", "zh"),
    ("I want to kill myself tonight.", "en"),
    ("ok", None),  # too short to show a switch
    ("I'm done", None),
    ("我要自杀 tonight for real lol", None),  # mixed
    ("最近好累, honestly I just want to die", None),
    ("kill 王小明", None),
    ("🙃", None),
    ("好的 ok", "zh"),
])
def test_a_message_is_clearly_in_a_language_only_when_its_letters_say_so(message, expected):
    assert clearly_written_in(message) == expected
