"""Reply post-processing: what a help-seeker reads is one supporter turn, in their language, as plain text.

Small models drift past their turn ("User: ..."), leave markdown debris ("**", "#", bullets), repeat the
strategy tag they saw in training, mix scripts, or run on until the token limit. ``clean_reply`` cuts at the
first turn marker, strips the debris, drops sentences in another script and an unfinished last sentence,
and caps the length. It is applied to the growing text while streaming, so debris never shows.
"""

from __future__ import annotations

import re

from .lang import by_lang

# A new speaker's turn: "User:", "Seeker:", "Assistant:", "Supporter:", "Human:", "AI:", "Therapist:",
# "Client:", chat-template markers, or their Chinese forms ("用户：", "求助者：", "助手：", "咨询师：").
_TURN_MARKER = re.compile(
    r"(?:^|\n|(?<=[.!?。！？\"”]) ?)\s*(?:<\|im_(?:start|end)\|>|<\|endoftext\|>|"
    r"(?:user|seeker|assistant|supporter|human|ai|therapist|counsel+or|client|help-seeker|system)\s*:|"
    r"(?:用户|求助者|来访者|助手|咨询师|支持者)\s*[:：])",
    re.IGNORECASE,
)
_STRATEGY_TAG = re.compile(r"^\s*[\[【(（][A-Za-z][A-Za-z \-]{2,40}[\]】)）]\s*")
_MARKDOWN = [
    (re.compile(r"```[a-z]*"), ""),  # code fences
    (re.compile(r"(\*\*|__|~~|`)"), ""),  # bold / strike / code spans
    (re.compile(r"(?m)^\s{0,3}#{1,6}\s*"), ""),  # headings
    (re.compile(r"(?m)^\s*(?:[-*+•]|\d+[.)])\s+"), ""),  # list bullets and numbers
    (re.compile(r"(?m)^\s*>\s?"), ""),  # quotes
    (re.compile(r"\[([^\]]+)\]\((?:https?://)?[^)]*\)"), r"\1"),  # links keep their text
]
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
_SENTENCE = re.compile(r"[^.!?。！？]+(?:[.!?。！？]+[\"'”’)]*|$)")
_SENTENCE_END = re.compile(r"[.!?。！？…][\"'”’)]*\s*$")

DEFAULT_MAX_SENTENCES = 4


def cut_at_turn_marker(text: str) -> tuple[str, bool]:
    """The text before the first sign of another speaker's turn, and whether one was found."""
    match = _TURN_MARKER.search(text)
    return (text[: match.start()], True) if match else (text, False)


def strip_markdown(text: str) -> str:
    """Remove markdown markup and a leading strategy tag such as "[Question]", keeping the words."""
    for pattern, repl in _MARKDOWN:
        text = pattern.sub(repl, text)
    return _STRATEGY_TAG.sub("", text)


def foreign_script(sentence: str, lang: str) -> bool:
    """Whether a sentence is written (mostly) in another script than ``lang`` ("en" or "zh")."""
    if lang == "zh":
        return not _CJK.search(sentence) and len(_LATIN_WORD.findall(sentence)) >= 3
    return bool(_CJK.search(sentence))


def sentences(text: str) -> list[str]:
    """Sentences with their end punctuation; a trailing fragment without one is the last item."""
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip()]


def clean_reply(text: str, lang: str = "en", max_sentences: int = DEFAULT_MAX_SENTENCES,
                final: bool = True) -> str:
    """One plain-text supporter turn in ``lang``. ``final=False`` while streaming: an unfinished last sentence
    is kept (more tokens may complete it)."""
    text, cut = cut_at_turn_marker(text)
    text = strip_markdown(text)
    text = re.sub(r"\s+", " ", text).strip()
    kept = [s for s in sentences(text) if not foreign_script(s, lang)]
    if final or cut:
        if len(kept) > 1 and not _SENTENCE_END.search(kept[-1]):
            kept = kept[:-1]  # cut off by the token limit mid-sentence
    kept = kept[:max_sentences]
    return by_lang(lang, en=" ", zh="").join(kept).strip()


def _mean_rouge_l(draft: str, others: list[str]) -> float:
    from .metrics import rouge_l

    return rouge_l([draft] * len(others), others)


def _mean_bleu_2(draft: str, others: list[str]) -> float:
    from .metrics import sentence_bleu

    return sum(sentence_bleu(draft, other, max_order=2) for other in others) / len(others)


# How drafts are compared for the consensus: mean ROUGE-L F (the default) or mean sentence BLEU up to bigrams with
# add-one smoothing (opt-in; README "Replies")
_AGREEMENTS = {"rouge-l": _mean_rouge_l, "bleu-2": _mean_bleu_2}
CONSENSUS_AGREEMENTS = tuple(_AGREEMENTS)


def consensus_reply(drafts: list[str], anchors: list[str] | None = None, agreement: str = "rouge-l") -> str:
    """The draft most like the others (mean ``agreement`` against each other draft, one of
    :data:`CONSENSUS_AGREEMENTS`; a minimum-Bayes-risk choice): sampled replies agree on what fits the turn and differ
    in their slips. With ``anchors`` (drafts sampled without the persona lexicon), the draft most like the anchors
    instead: lexicon drafts agree on the persona's words, the plain ones on the seeker's. Empty drafts never win; the
    first wins a tie."""
    if agreement not in _AGREEMENTS:
        raise ValueError(f"unknown consensus agreement {agreement!r}; valid: {', '.join(CONSENSUS_AGREEMENTS)}")
    mean_agreement = _AGREEMENTS[agreement]
    drafts = [d for d in drafts if d.strip()]
    anchors = [a for a in anchors or () if a.strip()]
    if len(drafts) <= 1:
        return drafts[0] if drafts else ""
    if anchors:
        agreements = [mean_agreement(draft, anchors) for draft in drafts]
    else:
        agreements = [mean_agreement(draft, drafts[:i] + drafts[i + 1:]) for i, draft in enumerate(drafts)]
    return drafts[agreements.index(max(agreements))]


def reply_problems(text: str, lang: str = "en") -> list[str]:
    """What is wrong with a reply as shown: "turn marker", "markdown", "other language" (empty when clean)."""
    problems = []
    if cut_at_turn_marker(text)[1]:
        problems.append("turn marker")
    if strip_markdown(text) != text:
        problems.append("markdown")
    if any(foreign_script(s, lang) for s in sentences(text)):
        problems.append("other language")
    return problems


__all__ = ["CONSENSUS_AGREEMENTS", "clean_reply", "consensus_reply", "cut_at_turn_marker", "foreign_script",
           "reply_problems", "sentences", "strip_markdown"]
