"""Reply post-processing: one plain-text supporter turn in the seeker's language."""

import pytest

from empath.postprocess import clean_reply, cut_at_turn_marker, reply_problems, strip_markdown


@pytest.mark.parametrize("raw,expected", [
    ("That sounds so hard. User: thanks for listening", "That sounds so hard."),
    ("I hear you.\nSeeker: I know.\nSupporter: ok", "I hear you."),
    ("我明白你的难过。\n用户：谢谢", "我明白你的难过。"),
    ("You did your best. <|im_start|>user\nhi", "You did your best."),
])
def test_cuts_at_the_next_speakers_turn(raw, expected):
    assert clean_reply(raw, "zh" if "明白" in raw else "en") == expected


def test_markdown_debris_and_strategy_tags_are_removed_words_kept():
    raw = "[Question] **How long** has this been going on?\n- Try a walk.\n## Tip:\n`breathe.`"
    assert clean_reply(raw) == "How long has this been going on? Try a walk. Tip: breathe."
    assert strip_markdown("[link](http://x.y) text") == "link text"


def test_sentences_in_another_script_are_dropped():
    assert clean_reply("I see. 我也是这样。 You are brave!") == "I see. You are brave!"
    assert clean_reply("别担心。This is a long English sentence here. 我在这里。", "zh") == "别担心。我在这里。"


def test_unfinished_last_sentence_is_cut_only_when_final():
    raw = "That must hurt. Have you talked to"
    assert clean_reply(raw) == "That must hurt."
    assert clean_reply(raw, final=False) == raw  # still streaming: more tokens may finish it
    assert clean_reply("Have you talked to") == "Have you talked to"  # never empty a one-sentence reply


def test_runaway_length_is_capped():
    raw = " ".join(f"Sentence {i}." for i in range(10))
    assert clean_reply(raw, max_sentences=3) == "Sentence 0. Sentence 1. Sentence 2."


def test_problems_are_named():
    assert reply_problems("Fine. User: x") == ["turn marker"]
    assert reply_problems("**Bold**") == ["markdown"]
    assert reply_problems("Okay. 好的。") == ["other language"]
    assert reply_problems("A clean reply.") == []
    assert cut_at_turn_marker("Said: nothing") == ("Said: nothing", False)  # a colon alone is not a turn


def test_the_consensus_reply_is_the_draft_most_like_the_others():
    """Minimum-Bayes-risk choice: the draft sharing the most with the rest wins; a stray draft never does."""
    from empath.postprocess import consensus_reply

    drafts = ["So you lost your job and feel worthless?", "You were a good king.",
              "You lost your job and now you feel worthless.", "So you feel worthless since losing your job?"]
    assert consensus_reply(drafts) == drafts[0]
    assert consensus_reply(["", "  ", "Tell me more."]) == "Tell me more."  # an empty draft never wins
    assert consensus_reply(["", ""]) == "" and consensus_reply([]) == ""
    assert consensus_reply(["Same.", "Same."]) == "Same."  # a tie goes to the first


def test_the_bleu_consensus_is_the_draft_with_the_highest_mean_sentence_bleu():
    """agreement="bleu-2": the draft whose mean smoothed sentence BLEU (orders 1-2) against the others is highest; its
    brevity penalty favours the fuller of the agreeing drafts, where ROUGE-L's F-measure takes the shorter one."""
    from empath.metrics import sentence_bleu
    from empath.postprocess import consensus_reply

    drafts = ["You are welcome, have a great day.", "You are welcome and I wish you all the best, have a great day too.",
              "You are welcome! Have a good day and take care.", "Thank you, you too."]
    means = [sum(sentence_bleu(d, o) for o in drafts if o is not d) / 3 for d in drafts]
    assert consensus_reply(drafts, agreement="bleu-2") == drafts[means.index(max(means))] == drafts[1]
    assert consensus_reply(drafts) == drafts[0]  # ROUGE-L, the default, chooses otherwise here
    assert consensus_reply(["", "Tell me more."], agreement="bleu-2") == "Tell me more."
    with pytest.raises(ValueError, match="unknown consensus agreement 'bleu'"):
        consensus_reply(drafts, agreement="bleu")


def test_with_anchors_the_consensus_is_the_draft_most_like_them():
    """Persona-lexicon drafts agree on the persona's words; plain drafts (the anchors) on the seeker's topic, so the
    shown draft is the persona's draft closest to them, not the one closest to the other persona drafts."""
    from empath.postprocess import consensus_reply

    persona = ["Old friend, the road up the mountain is long.", "Old friend, the mountain road is long, old friend.",
               "Old friend, losing your job must feel heavy on the road."]
    plain = ["Losing your job must feel so heavy.", "It must feel heavy to lose your job.", ""]
    assert consensus_reply(persona) == persona[0]
    assert consensus_reply(persona, anchors=plain) == persona[2]
    assert consensus_reply(persona, anchors=["", " "]) == persona[0]  # no usable anchor: the drafts agree among themselves

