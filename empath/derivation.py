"""The paper's three-stage dataset derivation (Section 3, Figures 10-12) and its Section 3.3 filters.

For each input dialogue (a PsyQA question with one answer, or any dialogue ``empath.dialogue`` reads):

1. ``multiturn``   the single-turn QA becomes an 8-10 round dialogue, one strategy tag per supporter turn;
2. ``experience``  first-person experiences of the persona (chosen by topic through the role bank) are woven
                   into comforting turns (``empath.prompts.experience_strategies``);
3. ``style``       every supporter turn is rewritten in the persona's speaking style (``roles.yaml`` style).

Every model answer is parsed in the paper's multi-turn text format (``empath.dialogue.parse_turns``) and
checked (Section 3.3): format (only two speakers, taking turns, starting with the seeker, every supporter turn
with exactly one valid strategy; stages 2 and 3 must keep the turns and strategies of stage 1), length
(8-10 rounds), and finally perplexity (<= 1500 under a local causal LM). Each dropped row is counted under its
stage and reason in a :class:`Report`.

Prompts live in ``empath/data/prompts/derivation.yaml`` (English and Chinese). Generation goes through a
``ChatBackend``: any OpenAI-compatible endpoint (:class:`OpenAIBackend`, ``EMPATH_LLM_BASE_URL`` /
``EMPATH_LLM_MODEL`` / ``EMPATH_LLM_API_KEY``) or a local transformers model (:class:`TransformersBackend`).
Answers are cached in ``OUT/cache.jsonl`` keyed by input id and stage (plus a hash of the prompt, so a changed
prompt or upstream answer is asked again): a killed run resumes without repeating requests.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from ._data import PACKAGE_DATA, DataFileError, load_yaml
from .derivation_backends import (ChatBackend, OpenAIBackend, PerplexityScorer, Reply, TransformersBackend,
                                  call_with_retries)
from .derivation_checks import Rejected, attribute_experiences, parse_dialogue_text, rounds, same_structure
from .dialogue import SEEKER, SUPPORTER, Dialogue, Turn, format_turns
from .lang import by_lang, detect_language
from .roles import RoleBank, load_roles
from .strategies import strategies

PROMPT_FILE = PACKAGE_DATA / "prompts" / "derivation.yaml"
STAGES = ("multiturn", "experience", "style")
CACHE_NAME = "cache.jsonl"
MIN_ROUNDS, MAX_ROUNDS, MAX_PERPLEXITY = 8, 10, 1500.0


# ---------------------------------------------------------------------------------------------
# Prompts
# ---------------------------------------------------------------------------------------------
def load_prompts(path: str | os.PathLike = PROMPT_FILE) -> dict:
    """The derivation prompts, checked: each language has every stage's system/user text and its placeholders."""
    data = load_yaml(path)
    needs = {"multiturn": ("{dialogue}", "{strategies}", "{language}"),
             "experience": ("{dialogue}", "{experiences}", "{role}", "{comforting}"),
             "style": ("{dialogue}", "{speaking_style}", "{rewrite_guide}", "{role}")}
    for lang in ("en", "zh"):
        block = data.get(lang) if isinstance(data, dict) else None
        if not isinstance(block, dict) or not isinstance(block.get("language"), str):
            raise DataFileError(f"{path}: '{lang}' needs a 'language' name and the stages {', '.join(STAGES)}")
        for stage, placeholders in needs.items():
            texts = block.get(stage)
            if not isinstance(texts, dict) or not all(isinstance(texts.get(k), str) for k in ("system", "user")):
                raise DataFileError(f"{path}: '{lang}.{stage}' needs text fields system and user")
            missing = [p for p in placeholders if p not in texts["system"] + texts["user"]]
            if missing:
                raise DataFileError(f"{path}: '{lang}.{stage}' lacks {', '.join(missing)}")
    return data


def _fill(template: str, values: dict[str, str]) -> str:
    return re.sub(r"\{([a-z_]+)\}", lambda m: values.get(m.group(1), m.group(0)), template)


def strategy_lines(lang: str) -> str:
    if lang == "zh":
        return "\n".join(f"   - [{s.name}] {s.name_zh}：{s.definition_zh}" for s in strategies())
    return "\n".join(f"   - [{s.name}] {s.definition_en}" for s in strategies())


def comforting_strategies() -> list[str]:
    from .prompts import experience_strategies

    wanted = experience_strategies()
    return [s.name for s in strategies() if s.name in wanted]


def speaking_style(role, lang: str) -> str:
    examples = "\n".join(f"- {x}" for x in role.style_examples(lang))
    return role.style_description(lang) + (f"\n{examples}" if examples else "")


def experience_lines(experiences: Sequence, lang: str) -> str:
    return "\n".join(f"- ({e.id}) {e.text_for(lang)}" for e in experiences) or "-"


# ---------------------------------------------------------------------------------------------
# Cache
# ---------------------------------------------------------------------------------------------
class StageCache:
    """Answers of earlier runs, one JSON object per line: ``{"id", "stage", "prompt", "reply", "usage"}``;
    a lookup hits only when the prompt hash matches (the last line for a key wins)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], dict] = {}
        if self.path.exists():
            for line in self.path.read_text(encoding="utf-8").split("\n"):
                try:
                    entry = json.loads(line)
                    self._entries[(entry["id"], entry["stage"])] = entry
                except (ValueError, KeyError, TypeError):
                    continue  # a line cut by a kill: that request is simply made again

    @staticmethod
    def prompt_hash(messages: list[dict]) -> str:
        return hashlib.sha256(json.dumps(messages, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:16]

    def get(self, item_id: str, stage: str, messages: list[dict]) -> str | None:
        entry = self._entries.get((item_id, stage))
        return entry["reply"] if entry and entry.get("prompt") == self.prompt_hash(messages) else None

    def put(self, item_id: str, stage: str, messages: list[dict], reply: Reply) -> None:
        entry = {"id": item_id, "stage": stage, "prompt": self.prompt_hash(messages), "reply": reply.text,
                 "usage": {"prompt_tokens": reply.prompt_tokens, "completion_tokens": reply.completion_tokens}}
        with self._lock:
            self._entries[(item_id, stage)] = entry
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(entry, ensure_ascii=False) + "\n")


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------
REPORT_STAGES = ("read", "persona", "multiturn", "length", "experience", "style", "perplexity")


@dataclass
class Report:
    """How many rows each stage received, kept and dropped, and why (reason -> count, with example ids)."""

    counts_in: Counter = field(default_factory=Counter)
    dropped: dict = field(default_factory=lambda: defaultdict(Counter))
    examples: dict = field(default_factory=lambda: defaultdict(list))
    requests: int = 0
    cached: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    kept: int = 0
    perplexity: dict = field(default_factory=dict)

    def drop(self, stage: str, reason: str, item_id: str) -> None:
        self.dropped[stage][reason] += 1
        if len(self.examples[f"{stage}: {reason}"]) < 5:
            self.examples[f"{stage}: {reason}"].append(item_id)

    def to_dict(self) -> dict:
        rows = []
        for stage in REPORT_STAGES:
            if stage not in self.counts_in:
                continue
            n_in, dropped = self.counts_in[stage], dict(self.dropped.get(stage, {}))
            rows.append({"stage": stage, "in": n_in, "out": n_in - sum(dropped.values()),
                         "dropped": sum(dropped.values()), "reasons": dict(sorted(dropped.items()))})
        return {"stages": rows, "kept": self.kept, "examples": dict(self.examples),
                "requests": self.requests, "cached_answers": self.cached, "retries": self.retries,
                "tokens": {"prompt": self.prompt_tokens, "completion": self.completion_tokens},
                "cost_usd": round(self.cost_usd, 6), "perplexity": self.perplexity}

    def table(self) -> str:
        lines = [f"{'stage':<11} {'in':>6} {'out':>6} {'dropped':>8}  reasons", "-" * 72]
        for row in self.to_dict()["stages"]:
            reasons = ", ".join(f"{k} x{v}" for k, v in row["reasons"].items())
            lines.append(f"{row['stage']:<11} {row['in']:>6} {row['out']:>6} {row['dropped']:>8}  {reasons}")
        lines.append("-" * 72)
        lines.append(f"kept {self.kept}; requests {self.requests} (+{self.cached} from cache, {self.retries} "
                     f"retries); tokens {self.prompt_tokens} in / {self.completion_tokens} out; "
                     f"cost ${self.cost_usd:.4f}")
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# The derivation
# ---------------------------------------------------------------------------------------------
@dataclass
class DerivationSettings:
    lang: str = "auto"  # language of the derived dialogues: auto (the input's), en or zh
    min_rounds: int = MIN_ROUNDS
    max_rounds: int = MAX_ROUNDS
    max_perplexity: float | None = MAX_PERPLEXITY  # None: no perplexity filter
    experiences_per_prompt: int = 3
    workers: int = 4
    retries: int = 3
    backoff: float = 2.0
    price_in: float = 0.0  # USD per million prompt tokens
    price_out: float = 0.0  # USD per million completion tokens
    progress: bool = True


class Deriver:
    """Runs the three stages over dialogues with bounded concurrency, a resumable cache and a report."""

    def __init__(self, backend: ChatBackend, out_dir: str | os.PathLike, settings: DerivationSettings | None = None,
                 *, experiences=None, roles: RoleBank | None = None, prompts: dict | None = None,
                 perplexity: Callable[[str], float] | None = None, sleep: Callable[[float], None] = time.sleep):
        self.backend, self.settings = backend, settings or DerivationSettings()
        self.out_dir = Path(out_dir)
        self.roles = roles or load_roles()
        self.prompts = prompts or load_prompts()
        self.experiences = experiences
        self.perplexity = perplexity
        self.sleep = sleep
        self.cache = StageCache(self.out_dir / CACHE_NAME)
        self.report = Report()
        self._lock = threading.Lock()

    # -- prompts ---------------------------------------------------------------------------------
    def messages(self, stage: str, dialogue: Dialogue, lang: str, text: str, chosen: Sequence = ()) -> list[dict]:
        block, role = self.prompts[lang], self.roles.get(dialogue.background.role)
        values = {
            "language": block["language"], "dialogue": text, "strategies": strategy_lines(lang),
            "comforting": ", ".join(f"[{s}]" for s in comforting_strategies()),
            "role": role.name(lang), "source": role.source(lang), "experiences": experience_lines(chosen, lang),
            "speaking_style": speaking_style(role, lang), "rewrite_guide": block.get("rewrite_guide", "").strip(),
            "seeker": by_lang(lang, en="Help-seeker", zh="求助者"), "supporter": by_lang(lang, en="Supporter", zh="支持者"),
        }
        return [{"role": "system", "content": _fill(block[stage]["system"], values).strip()},
                {"role": "user", "content": _fill(block[stage]["user"], values).strip()}]

    def choose_experiences(self, dialogue: Dialogue) -> list:
        """The persona's experiences tagged with the dialogue's topic first, then the rest (file order)."""
        if self.experiences is None:
            return []
        try:
            pool = list(self.experiences.experiences(dialogue.background.role))
        except KeyError:
            return []
        topic = dialogue.background.topic
        pool.sort(key=lambda e: topic not in e.topics)
        return pool[: self.settings.experiences_per_prompt]

    # -- one request -----------------------------------------------------------------------------
    def ask(self, item_id: str, stage: str, messages: list[dict]) -> str:
        cached = self.cache.get(item_id, stage, messages)
        if cached is not None:
            with self._lock:
                self.report.cached += 1
            return cached
        try:
            reply, attempts = call_with_retries(self.backend, messages, self.settings.retries, self.settings.backoff,
                                                self.sleep)
        except Exception as exc:
            with self._lock:
                self.report.requests += self.settings.retries + 1
                self.report.retries += self.settings.retries
            raise Rejected("request failed", f"{type(exc).__name__}: {str(exc)[:120]}") from exc
        with self._lock:
            r = self.report
            r.requests += attempts
            r.retries += attempts - 1
            r.prompt_tokens += reply.prompt_tokens
            r.completion_tokens += reply.completion_tokens
            r.cost_usd += (reply.prompt_tokens * self.settings.price_in
                           + reply.completion_tokens * self.settings.price_out) / 1e6
        self.cache.put(item_id, stage, messages, reply)
        return reply.text

    # -- one dialogue ----------------------------------------------------------------------------
    def source_text(self, dialogue: Dialogue, lang: str) -> str:
        """Stage 1's input: the seeker's words and the answer as a single exchange (PsyQA), or the turns."""
        seeker = [t.text for t in dialogue.turns if t.speaker == SEEKER]
        if len(seeker) == 1 and dialogue.turns[0].speaker == SEEKER:
            answer = by_lang(lang, en=" ", zh="").join(t.text for t in dialogue.turns if t.speaker == SUPPORTER)
            turns = [Turn(SEEKER, seeker[0]), Turn(SUPPORTER, answer)] if answer else dialogue.turns
            return format_turns(turns, lang, with_strategy=False)
        return format_turns(dialogue.turns, lang, with_strategy=False)

    def derive_one(self, dialogue: Dialogue) -> tuple[str, Dialogue | Rejected]:
        """(stage reached, the derived dialogue or why it was dropped). Stage counts go to the report."""
        s, lang = self.settings, self.settings.lang
        lang = dialogue.lang if lang == "auto" else lang
        stage = "multiturn"
        try:
            self._count(stage)
            turns = parse_dialogue_text(self.ask(dialogue.id, stage, self.messages(
                stage, dialogue, lang, self.source_text(dialogue, lang))))
            stage = "length"
            self._count(stage)
            n = rounds(turns)
            if not s.min_rounds <= n <= s.max_rounds:
                raise Rejected(f"{'too few' if n < s.min_rounds else 'too many'} rounds", f"{n} rounds")
            chosen = self.choose_experiences(dialogue)
            for stage in ("experience", "style"):
                self._count(stage)
                text = format_turns(turns, lang)
                new = parse_dialogue_text(self.ask(dialogue.id, stage, self.messages(stage, dialogue, lang, text,
                                                                                     chosen)))
                why = same_structure(turns, new)
                if why:
                    raise Rejected("format: turns or strategies changed", why)
                if stage == "experience":
                    attribute_experiences(turns, new, chosen, lang)
                else:
                    for old, t in zip(turns, new):
                        t.experience_id = old.experience_id
                turns = new
        except Rejected as rej:
            return stage, rej
        bg = dialogue.background
        derived = Dialogue(dialogue.id, type(bg)(**{**bg.__dict__, "keywords": list(bg.keywords)}), turns, lang,
                           f"derived:{dialogue.source or 'input'}")
        try:
            derived.validate()
        except (ValueError, KeyError) as exc:
            return "style", Rejected("format: invalid dialogue", str(exc))
        return "style", derived

    def _count(self, stage: str) -> None:
        with self._lock:
            self.report.counts_in[stage] += 1

    # -- the run ---------------------------------------------------------------------------------
    def run(self, dialogues: Sequence[Dialogue], skipped_inputs: Sequence[str] = ()) -> list[Dialogue]:
        """Derive, filter and write ``derived.jsonl``, ``rejected.jsonl`` and ``report.json`` into the out dir."""
        from .dialogue import write_jsonl

        report = self.report
        report.counts_in["read"] = len(dialogues) + len(skipped_inputs)
        for message in skipped_inputs:
            report.drop("read", "invalid record", message.split(": ", 1)[0])
        report.counts_in["persona"] = len(dialogues)
        ready = []
        for d in dialogues:
            self._fill_persona(d)
            if d.background.role is None:
                report.drop("persona", "no topic or persona", d.id)
            else:
                ready.append(d)
        results: dict[str, tuple[str, Any]] = {}
        bar = _progress(len(ready), self.settings.progress)
        with ThreadPoolExecutor(max_workers=max(1, self.settings.workers)) as pool:
            futures = {pool.submit(self.derive_one, d): d for d in ready}
            for future in as_completed(futures):
                results[futures[future].id] = future.result()
                bar.update(1)
                bar.set_postfix_str(f"tok {report.prompt_tokens}+{report.completion_tokens} "
                                    f"${report.cost_usd:.4f} kept-so-far "
                                    f"{sum(isinstance(v, Dialogue) for _, v in results.values())}")
        bar.close()
        kept, rejected = [], []
        for d in ready:  # input order, whatever order the workers finished in
            stage, value = results[d.id]
            if isinstance(value, Rejected):
                report.drop(stage, value.reason, d.id)
                rejected.append({"id": d.id, "stage": stage, "reason": value.reason, "detail": value.detail})
            else:
                kept.append(value)
        if self.settings.max_perplexity is not None and self.perplexity is not None:
            report.counts_in["perplexity"] = len(kept)
            scores, survivors = {}, []
            for d in kept:
                ppl = self.perplexity("\n".join(t.text for t in d.turns))
                scores[d.id] = round(ppl, 2)
                if ppl <= self.settings.max_perplexity:
                    survivors.append(d)
                else:
                    report.drop("perplexity", f"perplexity > {self.settings.max_perplexity:g}", d.id)
                    rejected.append({"id": d.id, "stage": "perplexity", "reason": "perplexity", "detail": f"{ppl:.1f}"})
            finite = sorted(v for v in scores.values() if math.isfinite(v))
            report.perplexity = {"max": self.settings.max_perplexity, "median": finite[len(finite) // 2] if finite
                                 else None, "scores": scores}
            kept = survivors
        report.kept = len(kept)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        write_jsonl(kept, self.out_dir / "derived.jsonl", roles=self.roles)
        with (self.out_dir / "rejected.jsonl").open("w", encoding="utf-8") as fh:
            for row in rejected:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        (self.out_dir / "report.json").write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=2),
                                                  encoding="utf-8")
        return kept

    def _fill_persona(self, d: Dialogue) -> None:
        """The persona by topic, as in the role bank (PsyQA keywords give the topic; ESConv its problem type)."""
        bg, bank = d.background, self.roles
        try:
            if bg.topic is None and bg.problem_type:
                bg.topic = bank.topic_for_problem_type(bg.problem_type).id
            if bg.topic is None and bg.role:
                bg.topic = bank.get(bg.role).topic
            if bg.role is None and bg.topic:
                bg.role = bank.role_for_topic(bg.topic).id
        except KeyError:
            bg.role = None
        if d.lang not in ("en", "zh"):
            d.lang = detect_language(bg.text() + d.turns[0].text)


def _progress(total: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="derive", unit="dlg", disable=not enabled)


def read_inputs(paths: Iterable[str | os.PathLike], fmt: str = "auto", limit: int | None = None,
                roles: RoleBank | None = None):
    """(dialogues, skipped messages) from PsyQA JSON/JSONL, our JSONL or any format empath.dialogue reads,
    labels checked against ``roles`` (None: the shipped bank); malformed records are skipped (and reported),
    ids are made unique."""
    from .dialogue import read_dialogues

    dialogues, skipped, seen = [], [], Counter()
    for path in paths:
        got = read_dialogues(path, format=fmt, skip_invalid=True, roles=roles)
        skipped += got.skipped
        for d in got:
            seen[d.id] += 1
            if seen[d.id] > 1:
                d.id = f"{d.id}#{seen[d.id]}"
            dialogues.append(d)
    if limit:
        dialogues = dialogues[:limit]
    return dialogues, skipped


__all__ = ["CACHE_NAME", "PROMPT_FILE", "REPORT_STAGES", "STAGES", "attribute_experiences", "call_with_retries",
           "ChatBackend", "comforting_strategies", "DerivationSettings", "Deriver", "experience_lines",
           "load_prompts", "OpenAIBackend", "parse_dialogue_text", "PerplexityScorer", "read_inputs", "Rejected",
           "Reply", "Report", "rounds", "same_structure", "speaking_style", "StageCache", "strategy_lines",
           "TransformersBackend"]
