"""What the pipeline accepts as a seeker message: text without control characters, not empty, not too long."""

from __future__ import annotations

import re
import unicodedata

DEFAULT_MAX_MESSAGE_CHARS = 2000
# Terminal escape sequences, removed as a whole (not just their ESC byte): CSI (ESC [ or the C1 byte, e.g.
# colours "\x1b[31m"), OSC (ESC ] ... BEL or ESC \, e.g. window titles, hyperlinks), and two-byte ESC sequences.
ANSI_ESCAPE = re.compile(r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[!-/]*[0-~]")


class InputError(ValueError):
    """A seeker message or a control value the pipeline refuses; the message is meant for the user."""


def clean_message(text: str, max_chars: int = DEFAULT_MAX_MESSAGE_CHARS) -> str:
    """Strip control characters (keeping newlines/tabs) and refuse empty or over-long messages."""
    if not isinstance(text, str):
        raise InputError("the message must be text")
    text = ANSI_ESCAPE.sub("", text)
    cleaned = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C").strip()
    if not cleaned:
        raise InputError("Please type a message first: it is empty (or only spaces/control characters).")
    if len(cleaned) > max_chars:
        raise InputError(f"Your message has {len(cleaned)} characters; the limit is {max_chars}. "
                         "Please shorten it or split it into several messages.")
    return cleaned
