"""Evaluation: the paper's automatic metrics (Table 3) and the LLM judge (Table 7 / Figure 17).

Automatic metrics, all reported x100 like the paper:

``D-1``/``D-2``  Distinct-n (Li et al., 2016): distinct n-grams / all n-grams over every prediction.
``B-1``/``B-4``  corpus BLEU (sacrebleu, brevity penalty included) with n-gram orders up to 1 and 4,
                 computed on our tokens (``tokenize="none"``) so both languages share one tokenisation.
``F1``           token-level unigram F1 (multiset overlap) per pair, averaged.
``R-L``          ROUGE-L F-measure (rouge-score's LCS) per pair, averaged.

Tokenisation (:func:`tokenize`): lower-cased; every CJK character is a token (no word segmenter is
installed, and character level is the usual choice for Chinese ESC evaluation), runs of Latin letters or
digits are words, and each other non-space symbol (punctuation) is its own token.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterable, Sequence

from ._data import PACKAGE_DATA, DataFileError, load_yaml

TABLE3_COLUMNS = ("D-1", "D-2", "B-1", "B-4", "F1", "R-L")

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
        "B-4": bleu(predictions, references, 4),
        "F1": token_f1(predictions, references),
        "R-L": rouge_l(predictions, references),
    }


# ---------------------------------------------------------------------------------------------
# LLM judge
# ---------------------------------------------------------------------------------------------
JUDGE_PROMPT_FILE = PACKAGE_DATA / "prompts" / "llm_judge.yaml"
JUDGE_ENV = ("EMPATH_JUDGE_BASE_URL", "EMPATH_JUDGE_API_KEY", "EMPATH_JUDGE_MODEL")


class JudgeError(RuntimeError):
    """The judge could not produce a valid score after all attempts (the message says why)."""


@dataclass(frozen=True)
class Criterion:
    key: str
    name: str
    abbreviation: str
    max_points: float
    description: str
    checks: tuple[tuple[str, float], ...]


@dataclass
class Judgement:
    scores: dict[str, float]  # criterion key -> points
    analysis: str = ""
    raw: str = ""
    attempts: int = 1

    def as_row(self) -> dict[str, float]:
        """Scores keyed by the paper's column abbreviations (Flu., RoA., ...)."""
        by_key = {c.key: c for c in judge_criteria()}
        return {by_key[k].abbreviation: v for k, v in self.scores.items()}


@dataclass(frozen=True)
class JudgePrompt:
    system: str
    user: str
    role_block: str
    no_role_block: str
    criteria: tuple[Criterion, ...] = field(default_factory=tuple)


@lru_cache(maxsize=4)
def load_judge_prompt(path: str | None = None) -> JudgePrompt:
    path = path or str(JUDGE_PROMPT_FILE)
    data = load_yaml(path) or {}
    try:
        criteria = tuple(
            Criterion(
                key=c["key"],
                name=c["name"],
                abbreviation=c["abbreviation"],
                max_points=float(c["max_points"]),
                description=c["description"].strip(),
                checks=tuple((chk["question"].strip(), float(chk["points"])) for chk in c["checks"]),
            )
            for c in data["criteria"]
        )
        prompt = JudgePrompt(data["system"], data["user"], data["role_block"], data["no_role_block"], criteria)
    except (KeyError, TypeError) as exc:
        raise DataFileError(f"{path}: judge prompt lacks {exc}") from None
    for c in criteria:
        if abs(sum(p for _, p in c.checks) - c.max_points) > 1e-9:
            raise DataFileError(f"{path}: criterion {c.key!r}: check points do not add up to {c.max_points}")
    return prompt


def judge_criteria() -> tuple[Criterion, ...]:
    """The six criteria with their maximum points (3/5/5/5/3/1, Table 7)."""
    return load_judge_prompt().criteria


def _criteria_text(criteria: Iterable[Criterion]) -> str:
    lines = []
    for i, c in enumerate(criteria, start=1):
        lines.append(f"{i}. {c.name} (`{c.key}`, 0-{c.max_points:g} points): {c.description}")
        for j, (question, points) in enumerate(c.checks, start=1):
            lines.append(f"   {i}.{j} (0-{points:g}) {question}")
    return "\n".join(lines)


def build_judge_messages(dialogue_text: str, role: str | None = None, lang: str = "en") -> list[dict[str, str]]:
    """Chat messages asking the judge to score ``dialogue_text`` (optionally as played by ``role``)."""
    prompt = load_judge_prompt()
    if role:
        from .roles import load_roles

        try:
            persona = load_roles().resolve(role)
        except KeyError:  # a character outside the bank: the judge gets its name only
            persona = None
        role_block = prompt.role_block.format(
            role=persona.name(lang) if persona else role,
            profile=persona.profile_text(lang) if persona else "",
            style=persona.style_description(lang) if persona else "",
        )
    else:
        role_block = prompt.no_role_block
    # a template rather than numbers, so the judge is not anchored on example scores
    slots = [f'"{c.key}": <0-{c.max_points:g}>' for c in prompt.criteria] + ['"analysis": "<one or two sentences>"']
    example = "{" + ", ".join(slots) + "}"
    system = prompt.system.format(role_block=role_block.strip())
    user = prompt.user.format(criteria=_criteria_text(prompt.criteria), example=example, dialogue=dialogue_text.strip())
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


def _normalise_key(key: str) -> str:
    return re.sub(r"[^a-z]", "", key.lower())


def parse_judgement(text: str) -> Judgement:
    """Scores from a judge reply: the first JSON object in it (code fences allowed).

    Keys may be criterion keys, names or abbreviations in any case ("role_alignment", "Role Alignment",
    "RoA."); values must be numbers (or numeric strings) within 0..max_points. Raises ValueError naming
    what is missing or out of range.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("empty reply")
    candidates = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    obj = None
    for candidate in candidates:
        obj = _first_json_object(candidate)
        if obj is not None:
            break
    if obj is None:
        raise ValueError("no JSON object in the reply")
    aliases = {}
    for c in judge_criteria():
        for alias in (c.key, c.name, c.abbreviation):
            aliases[_normalise_key(alias)] = c
    scores, problems, bad_keys = {}, [], set()
    for key, value in obj.items():
        c = aliases.get(_normalise_key(str(key)))
        if c is None:
            continue
        if isinstance(value, dict):  # {"score": 3, "reason": ...}
            value = value.get("score", value.get("points"))
        try:
            number = float(value)
        except (TypeError, ValueError):
            problems.append(f"{c.key}={value!r} is not a number")
            bad_keys.add(c.key)
            continue
        if not 0 <= number <= c.max_points:
            problems.append(f"{c.key}={number:g} outside 0..{c.max_points:g}")
            bad_keys.add(c.key)
            continue
        scores[c.key] = number
    missing = [c.key for c in judge_criteria() if c.key not in scores and c.key not in bad_keys]
    if missing:
        problems.append(f"missing {', '.join(missing)}")
    if problems:
        raise ValueError("; ".join(problems))
    analysis = obj.get("analysis") or obj.get("reason") or obj.get("analyses") or ""
    ordered = {c.key: scores[c.key] for c in judge_criteria()}
    return Judgement(ordered, str(analysis), text)


def _first_json_object(text: str) -> dict | None:
    decoder = json.JSONDecoder()
    for m in re.finditer(r"\{", text):
        try:
            obj, _ = decoder.raw_decode(text, m.start())
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            return obj
    return None


def judge_client_from_env() -> tuple[Any, str]:
    """An ``openai.OpenAI`` client and model name from ``EMPATH_JUDGE_*``; raises JudgeError if unset."""
    model = os.environ.get("EMPATH_JUDGE_MODEL")
    if not model:
        raise JudgeError(
            "no judge model configured: set EMPATH_JUDGE_MODEL (and EMPATH_JUDGE_BASE_URL / "
            "EMPATH_JUDGE_API_KEY for any OpenAI-compatible endpoint)"
        )
    import openai

    client = openai.OpenAI(
        base_url=os.environ.get("EMPATH_JUDGE_BASE_URL") or None,
        api_key=os.environ.get("EMPATH_JUDGE_API_KEY") or "EMPTY",  # local servers accept any key
    )
    return client, model


def _transient_errors() -> tuple[type[BaseException], ...]:
    try:
        import openai

        return (openai.OpenAIError, OSError, TimeoutError)
    except ImportError:  # pragma: no cover - openai is a dependency
        return (OSError, TimeoutError)


def judge_dialogue(
    dialogue: Any,
    role: str | None = None,
    *,
    client: Any = None,
    model: str | None = None,
    lang: str | None = None,
    max_attempts: int = 3,
    backoff_s: float = 2.0,
    temperature: float = 0.0,
) -> Judgement:
    """Score one dialogue on the six Table 7 criteria with an OpenAI-compatible chat model.

    ``dialogue`` is a :class:`empath.dialogue.Dialogue` (rendered with its strategy tags removed, and its
    background role used when ``role`` is not given) or already-formatted text. ``client`` is anything with
    ``client.chat.completions.create(model=..., messages=..., temperature=...)``; by default one is built from
    ``EMPATH_JUDGE_*``. Unparseable or partial replies and transient API errors are retried (exponential
    backoff); after ``max_attempts`` a :class:`JudgeError` carries the last reason and reply.
    """
    if hasattr(dialogue, "turns"):
        text = dialogue.to_text(lang=lang, with_strategy=False)
        role = role or dialogue.background.role
        lang = lang or dialogue.lang
    else:
        text = str(dialogue)
    if client is None:
        client, env_model = judge_client_from_env()
        model = model or env_model
    if not model:
        model = os.environ.get("EMPATH_JUDGE_MODEL")
        if not model:
            raise JudgeError("no judge model given: pass model= or set EMPATH_JUDGE_MODEL")
    messages = build_judge_messages(text, role, lang or "en")
    last_reason, last_reply = "", ""
    for attempt in range(1, max_attempts + 1):
        try:
            response = client.chat.completions.create(model=model, messages=messages, temperature=temperature)
            last_reply = response.choices[0].message.content or ""
            judgement = parse_judgement(last_reply)
            judgement.attempts = attempt
            return judgement
        except ValueError as exc:
            last_reason = f"unusable reply ({exc})"
        except _transient_errors() as exc:
            last_reason = f"API error ({type(exc).__name__}: {exc})"
        if attempt < max_attempts and backoff_s > 0:
            time.sleep(backoff_s * 2 ** (attempt - 1))
    snippet = last_reply.strip().replace("\n", " ")[:300]
    message = f"judge failed after {max_attempts} attempts: {last_reason}"
    raise JudgeError(message + (f"; last reply: {snippet!r}" if snippet else ""))


def summarize_judgements(judgements: Sequence[Judgement]) -> dict[str, float]:
    """Mean score per criterion, keyed by the paper's abbreviations (the LLM half of a Table 3 row)."""
    if not judgements:
        raise ValueError("no judgements to summarise")
    return {c.abbreviation: sum(j.scores[c.key] for j in judgements) / len(judgements) for c in judge_criteria()}
