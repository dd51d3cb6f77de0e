"""Evaluation: the paper's automatic metrics (Table 3) and reply defects; the LLM judge (Table 7 / Figure 17)
lives in :mod:`empath.judge` and is re-exported here.

Automatic metrics, all reported x100 like the paper:

``D-1``/``D-2``  Distinct-n (Li et al., 2016): distinct n-grams / all n-grams over every prediction.
``B-1``/``B-2``/``B-4``  corpus BLEU (sacrebleu, brevity penalty included, no smoothing) with n-gram orders up
                 to 1, 2 and 4 (uniform weights), computed on our tokens (``tokenize="none"``) so both languages
                 share one tokenisation.
``F1``           token-level unigram F1 (multiset overlap) per pair, averaged.
``R-L``          ROUGE-L F-measure (rouge-score's LCS) per pair, averaged.

:func:`sentence_bleu` (one pair, sacrebleu with add-one smoothing of the orders above 1, Lin & Och's BLEU+1) is
not a Table 3 column: it is one way to choose among sampled drafts (:func:`empath.postprocess.consensus_reply`).

Tokenisation (:func:`tokenize`): lower-cased; every CJK character is a token (no word segmenter is
installed, and character level is the usual choice for Chinese ESC evaluation), runs of Latin letters or
digits are words, and each other non-space symbol (punctuation) is its own token.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from typing import Iterable, Sequence

from .judge import (JUDGE_ENV, JUDGE_PROMPT_FILE, PREFERENCES, Criterion, JudgeError, JudgePrompt, Judgement,
                    PairwiseJudgement, ask_judge, build_judge_messages, build_pairwise_messages,
                    judge_client_from_env, judge_criteria, judge_dialogue, judge_pair, load_judge_prompt,
                    parse_judgement, parse_preferences, summarize_judgements)  # the judge, re-exported
from .lang import detect_language

TABLE3_COLUMNS = ("D-1", "D-2", "B-1", "B-2", "B-4", "F1", "R-L")

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef"
_TOKEN = re.compile(
    rf"[{_CJK}]"  # one CJK character
    rf"|[^\W_{_CJK}]+(?:'[^\W_{_CJK}]+)*"  # a word of letters/digits, inner apostrophes kept ("can't")
    r"|[^\s\w]|_"  # any other symbol on its own
)


def tokenize(text: str) -> list[str]:
    """Language-aware tokens: CJK characters, Latin words, single punctuation marks (lower-cased)."""
    return _TOKEN.findall(text.lower())


def _ngrams(tokens: Sequence[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def _check_pairs(predictions: Sequence[str], references: Sequence[str]) -> None:
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions but {len(references)} references")
    if not predictions:
        raise ValueError("no predictions to score")


def distinct_n(predictions: Iterable[str], n: int = 1) -> float:
    """Distinct-n x100: unique n-grams over total n-grams across all predictions (0 when there are none)."""
    counts: Counter = Counter()
    for text in predictions:
        counts.update(_ngrams(tokenize(text), n))
    total = sum(counts.values())
    return 100.0 * len(counts) / total if total else 0.0


def bleu(predictions: Sequence[str], references: Sequence[str], max_order: int = 4) -> float:
    """Corpus BLEU x100 with n-gram orders 1..max_order (sacrebleu on :func:`tokenize` tokens)."""
    from sacrebleu.metrics import BLEU

    _check_pairs(predictions, references)
    # force: the input is tokenised on purpose, so sacrebleu's "detokenise first" warning does not apply
    scorer = BLEU(tokenize="none", force=True, max_ngram_order=max_order, effective_order=False)
    hyps = [" ".join(tokenize(p)) for p in predictions]
    refs = [[" ".join(tokenize(r)) for r in references]]
    return float(scorer.corpus_score(hyps, refs).score)


@functools.lru_cache(maxsize=4)
def _sentence_bleu_scorer(max_order: int):
    from sacrebleu.metrics import BLEU

    return BLEU(tokenize="none", force=True, max_ngram_order=max_order, effective_order=True,
                smooth_method="add-k", smooth_value=1)


def sentence_bleu(prediction: str, reference: str, max_order: int = 2) -> float:
    """Sentence BLEU x100 of one pair, orders 1..max_order, add-one smoothing above order 1 (sacrebleu ``add-k``)."""
    scorer = _sentence_bleu_scorer(max_order)
    return float(scorer.sentence_score(" ".join(tokenize(prediction)), [" ".join(tokenize(reference))]).score)


def token_f1(predictions: Sequence[str], references: Sequence[str]) -> float:
    """Mean per-pair unigram F1 x100 (overlap counted as a multiset intersection)."""
    _check_pairs(predictions, references)
    total = 0.0
    for pred, ref in zip(predictions, references):
        p, r = tokenize(pred), tokenize(ref)
        overlap = sum((Counter(p) & Counter(r)).values())
        if overlap:
            precision, recall = overlap / len(p), overlap / len(r)
            total += 2 * precision * recall / (precision + recall)
    return 100.0 * total / len(predictions)


class _RougeTokenizer:
    """rouge-score's default tokenizer drops non-ASCII text; this one keeps Chinese characters."""

    def tokenize(self, text: str) -> list[str]:
        return tokenize(text)


def rouge_l(predictions: Sequence[str], references: Sequence[str]) -> float:
    """Mean per-pair ROUGE-L F-measure x100 (rouge-score)."""
    from rouge_score import rouge_scorer

    _check_pairs(predictions, references)
    scorer = rouge_scorer.RougeScorer(["rougeL"], tokenizer=_RougeTokenizer())
    scores = [scorer.score(ref, pred)["rougeL"].fmeasure for pred, ref in zip(predictions, references)]
    return 100.0 * sum(scores) / len(scores)


def generation_metrics(predictions: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    """Every Table 3 automatic metric, keyed by :data:`TABLE3_COLUMNS` (values x100)."""
    predictions, references = list(predictions), list(references)
    _check_pairs(predictions, references)
    return {
        "D-1": distinct_n(predictions, 1),
        "D-2": distinct_n(predictions, 2),
        "B-1": bleu(predictions, references, 1),
        "B-2": bleu(predictions, references, 2),
        "B-4": bleu(predictions, references, 4),
        "F1": token_f1(predictions, references),
        "R-L": rouge_l(predictions, references),
    }


# ---------------------------------------------------------------------------------------------
# Reply defects: text a help-seeker should never see
# ---------------------------------------------------------------------------------------------
DEFECTS = ("markdown", "other_language", "second_speaker")
_MARKDOWN = re.compile(r"\*\*|```|^[ \t]*#{1,6}(?:\s|$)", re.MULTILINE)
_SPEAKER_LINE = re.compile(
    r"^[ \t]*(?:user|seeker|help[- ]?seeker|assistant|supporter|system|client|counsell?or|therapist|"
    r"来访者|求助者|咨询师|心理咨询师|用户|助手)[ \t]*[:：]|<\|im_(?:start|end)\|>",
    re.MULTILINE | re.IGNORECASE,
)
_CJK_CHAR = re.compile(rf"[{_CJK}]")


def reply_defects(text: str, lang: str = "en") -> list[str]:
    """Which :data:`DEFECTS` a reply shows (markdown debris, another language, a second speaker's turn)."""
    # markdown: ``**``, a code fence, a ``#`` heading line; other language: any CJK character in an English
    # reply, or a Chinese reply that is not mostly CJK; second speaker: a line opening with User:/Seeker:/
    # Assistant:/来访者：... or a chat-template marker
    found = []
    if _MARKDOWN.search(text):
        found.append("markdown")
    if (_CJK_CHAR.search(text) if lang != "zh" else detect_language(text) != "zh" and re.search(r"[A-Za-z]", text)):
        found.append("other_language")
    if _SPEAKER_LINE.search(text):
        found.append("second_speaker")
    return found


__all__ = ["DEFECTS", "JUDGE_ENV", "JUDGE_PROMPT_FILE", "PREFERENCES", "TABLE3_COLUMNS", "Criterion", "JudgeError",
           "JudgePrompt", "Judgement", "PairwiseJudgement", "ask_judge", "bleu", "build_judge_messages",
           "build_pairwise_messages", "distinct_n", "generation_metrics", "judge_client_from_env", "judge_criteria",
           "judge_dialogue", "judge_pair", "load_judge_prompt", "parse_judgement", "parse_preferences",
           "reply_defects", "rouge_l", "sentence_bleu", "summarize_judgements", "token_f1", "tokenize"]
