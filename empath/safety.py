"""Crisis detection for seeker messages, and the reply and banner shown when one is found.

Every seeker message is checked for suicide, self-harm and harm-to-others content in English and
Chinese in two stages. First, transparent rules (``empath/data/safety.yaml``): regular expressions for
first-person risk statements, with masks for idioms and hyperbole ("this job is killing me", "笑死我了"),
explicit denials ("I'm not suicidal") and talk about the topic ("an essay on self-harm"), and
sentence-level context rules (past history, accidents, fiction/news, games and jokes). Second, a learned
classifier (:mod:`empath.safety_model`: n-gram TF-IDF and sentence embeddings, logistic regression)
that catches new wordings, coded language and plans the rules were never written for; it fires when its
crisis probability reaches the shipped threshold (rule id ``model/crisis``). The classifier reads the
text with the rules' masks blanked, and a context rule that explained a rule hit away (an accident, the
past, fiction) also overrides it for that category. A hit of either means: stop
the usual generation, answer with :func:`crisis_reply` and show :func:`resources_banner`.

The detector is deliberately high-recall: a false alarm costs one careful message, a miss can cost
far more. It reads one message at a time, and with ``history`` (the seeker's earlier turns) also the
conversation: risk spread over turns ("nothing will ever get better" ... "I've planned it, this weekend")
is caught when the classifier's crisis probability of the last ``CONVERSATION_TURNS`` seeker turns read
together reaches the threshold while the new message itself scores at least ``CONVERSATION_FLOOR`` (a
"thank you" after a dark turn is not flagged again); rule id ``model/conversation``. Callers that keep a
conversation should stay in crisis mode once a turn has been flagged (see ``training/evaluate_safety.py``
for measured recall, FPR and limits). A long message (``LONG_MESSAGE_SENTENCES`` or more) is also read one
sentence at a time, so one sentence of plan inside a paragraph about work and rent is not averaged away; a
sentence alone has less context, so it must reach the model's stricter ``sentence_threshold``
(rule id ``model/sentence``). After a flagged turn (``after_crisis``; the pipeline passes ``conversation.crisis``) a
message nothing else flagged is also read by the follow-up stage (``empath/data/safety_followup_model/``), trained
only on what seekers write next, since "it's almost time" carries the risk with no risk word (rule id
``model/followup``); it only ever adds flags.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ._data import PACKAGE_DATA, load_yaml
from .lang import resolve_language
from .roles import RoleBank, load_roles
from .safety_replies import ReplyTexts
from .safety_rules import CATEGORIES, RuleFileReader, split_sentences

SPLITS = ("dev", "tune", "test")  # rules written on dev, widened on tune, test held out
DEFAULT_RULES = PACKAGE_DATA / "safety.yaml"


@dataclass
class SafetyResult:
    """Outcome of one check. ``matched`` lists the rule ids that fired ("en/suicide/want_to_die"),
    ``phrases`` the text they matched, ``suppressed`` the ids dropped by a context rule
    ("en/self_harm/cut_myself~accident"). ``score`` is the classifier's crisis probability (None when
    it did not run, or the rules masked every word); when it fired, ``matched`` ends with "model/crisis"."""

    crisis: bool
    category: str | None
    matched: list[str] = field(default_factory=list)
    lang: str = "en"
    phrases: list[str] = field(default_factory=list)
    suppressed: list[str] = field(default_factory=list)
    score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


MODEL_RULE_ID = "model/crisis"
CONVERSATION_RULE_ID = "model/conversation"
SENTENCE_RULE_ID = "model/sentence"
LONG_MESSAGE_SENTENCES = 3  # a message this long is also read one sentence at a time
CONVERSATION_TURNS = 3  # the new message and the two seeker turns before it
CONVERSATION_FLOOR = 0.15  # the new message's own crisis probability the conversation check needs
FOLLOWUP_RULE_ID = "model/followup"
SITUATION_RULE_PREFIX = "situation/"  # + the open situation: its danger still holds
OTHER_PERSON_RULES = ("third_party", "threat_to_me")  # rule ids (and prefixes) about someone else's acts
# pattern groups about someone else (a child in the water, a car...), or whose hits may be (a threat reported)
OTHER_PERSON_GROUPS = ("someone_else_emergency", "threat_by_anyone")


def _turn_text(turn: Any) -> str:
    text = turn if isinstance(turn, str) else turn.get("text") if isinstance(turn, dict) else getattr(turn, "text", "")
    return text.strip() if isinstance(text, str) else ""


def conversation_window(text: str, history: Iterable[Any] | None, turns: int = CONVERSATION_TURNS) -> list[str]:
    """The last ``turns`` seeker messages, oldest first, ending with ``text``. ``history`` holds the seeker's
    earlier turns (strings, ``{"text": ...}`` or objects with ``.text``; other speakers' turns are the caller's
    to leave out)."""
    earlier = [t for t in (_turn_text(turn) for turn in (history or ())) if t]
    return earlier[-(turns - 1):] + [text] if turns > 1 else [text]


def _only_other_person_signals(result: SafetyResult, groups: dict[str, str]) -> bool:
    """The flag came from the learned stage on this message alone, or from a rule about someone else (a third party
    in danger, a threat to the seeker, a pattern of an ``OTHER_PERSON_GROUPS`` group; ``groups``: rule hit -> group):
    no rule about the seeker's own words and no conversation-level flag, so a situation reply (helper, threatened)
    may fit."""
    return all(hit in (MODEL_RULE_ID, SENTENCE_RULE_ID) or hit.rsplit("/", 1)[-1].startswith(OTHER_PERSON_RULES)
               or groups.get(hit) in OTHER_PERSON_GROUPS for hit in result.matched)


def _match(rules, scope: str, normalized: str, text: str, messages: dict[str, str], result: SafetyResult) -> None:
    """Add to ``result`` the hits of ``rules``' patterns of ``scope`` in ``normalized`` (a sentence or the whole
    message), each kept or dropped by the first context that applies."""
    masked = rules.mask(normalized)
    for rule in rules.patterns:
        found = rule.regex.search(masked) if rule.scope == scope else None
        if found is None:
            continue
        if rules.lang not in messages:  # only a hit needs it, and most messages have none
            messages[rules.lang] = rules.normalize(text)
        context = next((c for c in rules.contexts if c.drops(rule, normalized, found.span(), messages[rules.lang])), None)
        if context is not None:
            result.suppressed.append(f"{rule.id}~{context.id}")
        elif rule.id not in result.matched:
            result.matched.append(rule.id)
            result.phrases.append(found.group().strip())


def _flag(result: SafetyResult, rule_id: str, labels: tuple[str, ...], row) -> None:
    """Flag ``result`` by a later read of the learned stage: ``rule_id`` and the likeliest crisis category of ``row``
    (class probabilities, column 0 "no crisis")."""
    result.matched.append(rule_id)
    result.category = labels[1 + int(row[1:].argmax())]


def _has_signal(model_input: str) -> bool:
    """Whether a classifier input has anything left to read (all masked: no signal)."""
    return any(ch.isalnum() for ch in model_input)


class SafetyChecker:
    """Crisis detector: rules, then (``use_model=True``) the learned classifier. Load once, call
    :meth:`check` per message (rules alone well under 5 ms; with the classifier, which embeds the
    message with one or two small sentence encoders, tens of ms on a CPU).

    ``model_dir`` picks another trained model folder, ``threshold`` and ``sentence_threshold`` override its
    crisis thresholds for a message and for one sentence of a long message; ``followup_model_dir`` another
    follow-up stage (read after a flagged turn; ``use_followup=False``: none);
    ``roles`` is the role bank a reply's persona id is looked up in (None: the shipped one)."""

    def __init__(self, path: str | os.PathLike | None = None, use_model: bool = True,
                 model_dir: str | os.PathLike | None = None, threshold: float | None = None,
                 roles: RoleBank | None = None, sentence_threshold: float | None = None,
                 followup_model_dir: str | os.PathLike | None = None, use_followup: bool = True):
        self.path = Path(path) if path is not None else DEFAULT_RULES
        self.roles = roles if roles is not None else load_roles()
        self.model = None
        self.followup_model = None  # reads the next message after a flagged turn (training/train_safety_followup.py)
        if use_model:
            from .safety_model import DEFAULT_FOLLOWUP_MODEL_DIR, CrisisModel

            self.model = CrisisModel.load(model_dir)
            if use_followup:  # a missing stage is an error, never a silent gap
                self.followup_model = CrisisModel.load(followup_model_dir or DEFAULT_FOLLOWUP_MODEL_DIR,
                                                       trainer="training.train_safety_followup")
        self.threshold = threshold if threshold is not None else (self.model.threshold if self.model else None)
        # the model's thresholds for the languages its encoder head reads (an explicit ``threshold`` overrides all)
        self.language_thresholds = dict(self.model.language_thresholds) if self.model and threshold is None else {}
        self.sentence_threshold = sentence_threshold if sentence_threshold is not None else \
            (self.model.sentence_threshold if self.model else None)
        config = load_yaml(self.path)
        reader = RuleFileReader(self.path)
        if not isinstance(config, dict) or not isinstance(config.get("languages"), dict):
            raise reader.fail(None, "expected a mapping with `languages`, `emergency`, `resources`, `replies`")
        self._languages = tuple(reader.language(lang, spec) for lang, spec in config["languages"].items())
        self._model_decides = {c.id for rules in self._languages for c in rules.contexts if c.model_decides}
        self._groups = {rule.id: rule.group for rules in self._languages for rule in rules.patterns if rule.group}
        self._texts = ReplyTexts(config, reader)

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(rules.lang for rules in self._languages)

    def check(self, text: str, lang: str | None = None, history: Iterable[Any] | None = None,
              after_crisis: bool = False) -> SafetyResult:
        """Check one message. Every language's rules run (code-switching); ``lang`` (auto-detected
        from the share of CJK characters when None) is recorded for the reply language and picks the
        classifier's language-specific features. ``history``: the seeker's earlier turns in this
        conversation, oldest first (strings or turns with ``text``), for the conversation-level check;
        ``after_crisis``: an earlier turn of this conversation was flagged (the follow-up stage then reads it too)."""
        return self.check_batch([text], [lang], [history], [after_crisis])[0]

    def check_batch(self, texts: list[str], langs: list[str | None] | None = None,
                    histories: list[Iterable[Any] | None] | None = None,
                    after_crisis: list[bool] | None = None) -> list[SafetyResult]:
        """:meth:`check` for many messages at once (the classifier embeds them in one batch)."""
        langs = list(langs) if langs is not None else [None] * len(texts)
        if len(langs) != len(texts):
            raise ValueError(f"got {len(texts)} texts but {len(langs)} languages")
        histories = list(histories) if histories is not None else [None] * len(texts)
        if len(histories) != len(texts):
            raise ValueError(f"got {len(texts)} texts but {len(histories)} histories")
        after_crisis = list(after_crisis) if after_crisis is not None else [False] * len(texts)
        if len(after_crisis) != len(texts):
            raise ValueError(f"got {len(texts)} texts but {len(after_crisis)} after_crisis flags")
        results = [self._check_rules(text, lang) for text, lang in zip(texts, langs)]
        inputs = [self.model_input(text, result.lang) if self.model is not None else ""
                  for text, result in zip(texts, results)]
        scored = [i for i, text in enumerate(inputs) if _has_signal(text)]
        if scored:
            proba = self.model.predict_proba([inputs[i] for i in scored], [results[i].lang for i in scored])
            for i, row in zip(scored, proba):
                result = results[i]
                result.score = round(float(1.0 - row[0]), 6)
                category = self.model.labels[1 + int(row[1:].argmax())]
                if result.score < self.threshold_for(result.lang):
                    continue
                if result.category is None and category in self._explained_categories(result):
                    # a context rule (accident, past, fiction, game...) already explained this risk away
                    result.suppressed.append(f"{MODEL_RULE_ID}~context")
                    continue
                result.matched.append(MODEL_RULE_ID)
                deferred = self._deferred_category(result)
                if deferred is not None and row[self.model.labels.index(deferred)] * 2 < row[1:].max():
                    deferred = None  # the model is sure it is about something else (the seeker's own plan)
                result.category = result.category or deferred or category
        self._check_sentences(texts, results)
        self._check_conversations(texts, results, histories)
        self._check_followups(inputs, results, after_crisis)
        for result in results:
            result.crisis = result.category is not None
        return results

    def check_dialogues(self, dialogues: list[list[str]], langs: list[str | None] | None = None
                        ) -> list[list[SafetyResult]]:
        """Each dialogue's seeker messages checked in order as the app checks them: with the earlier messages as
        history and ``after_crisis`` once one was flagged (batched across dialogues, one position at a time)."""
        langs = list(langs) if langs is not None else [None] * len(dialogues)
        if len(langs) != len(dialogues):
            raise ValueError(f"got {len(dialogues)} dialogues but {len(langs)} languages")
        results: list[list[SafetyResult]] = [[] for _ in dialogues]
        for position in range(max(map(len, dialogues), default=0)):
            todo = [d for d, messages in enumerate(dialogues) if position < len(messages)]
            checked = self.check_batch([dialogues[d][position] for d in todo], [langs[d] for d in todo],
                                       [dialogues[d][:position] for d in todo],
                                       [any(r.crisis for r in results[d]) for d in todo])
            for d, result in zip(todo, checked):
                results[d].append(result)
        return results

    def _explained_categories(self, result: SafetyResult) -> set[str]:
        """Categories whose rule hits a context explained away (past, fiction, accident...); the learned stage
        stays silent on them, except where the context leaves the decision to it (``model_decides``: jokes)."""
        return {hit.split("/")[1] for hit in result.suppressed if hit.rsplit("~", 1)[-1] not in self._model_decides}

    def _deferred_category(self, result: SafetyResult) -> str | None:
        """The category of a rule hit whose context left the decision to the learned stage (a joke, a threat told
        without a time): the rule knows what the message is about, the model only whether it is a crisis."""
        return next((hit.split("/")[1] for hit in result.suppressed if hit.rsplit("~", 1)[-1] in self._model_decides),
                    None)

    def _check_sentences(self, texts: list[str], results: list[SafetyResult]) -> None:
        """Long messages not yet flagged: any one sentence at or above ``sentence_threshold`` flags the message."""
        if self.model is None or self.sentence_threshold is None:
            return
        inputs = []  # (message index, one sentence as the classifier reads it)
        for i, (text, result) in enumerate(zip(texts, results)):
            sentences = split_sentences(text)
            if result.category is None and len(sentences) >= LONG_MESSAGE_SENTENCES \
                    and not self._explained_categories(result):
                inputs += [(i, self.model_input(sentence, result.lang)) for sentence in sentences]
        inputs = [(i, text) for i, text in inputs if _has_signal(text)]
        if not inputs:
            return
        proba = self.model.predict_proba([text for _, text in inputs], [results[i].lang for i, _ in inputs])
        for (i, _), row in zip(inputs, proba):
            if results[i].category is None and 1.0 - row[0] >= self.sentence_threshold:
                _flag(results[i], SENTENCE_RULE_ID, self.model.labels, row)

    def threshold_for(self, lang: str | None) -> float:
        """The crisis threshold for a message in ``lang``."""
        return self.language_thresholds.get(lang, self.threshold)

    def conversation_input(self, text: str, history: Iterable[Any] | None, lang: str | None = None) -> str:
        """What the classifier reads for the conversation-level check (in training too): the
        :meth:`model_input` of the last ``CONVERSATION_TURNS`` seeker turns, joined oldest first."""
        return " ".join(self.model_input(turn, lang) for turn in conversation_window(text, history))

    def _check_conversations(self, texts: list[str], results: list[SafetyResult],
                             histories: list[Iterable[Any] | None]) -> None:
        if self.model is None:
            return
        todo = [i for i, (result, history) in enumerate(zip(results, histories))
                if history and result.category is None and (result.score or 0.0) >= CONVERSATION_FLOOR
                and not self._explained_categories(result) and len(conversation_window(texts[i], history)) > 1]
        if not todo:
            return
        windows = [self.conversation_input(texts[i], histories[i], results[i].lang) for i in todo]
        proba = self.model.predict_proba(windows, [results[i].lang for i in todo])
        for i, row in zip(todo, proba):
            if 1.0 - row[0] >= self.threshold_for(results[i].lang):
                _flag(results[i], CONVERSATION_RULE_ID, self.model.labels, row)

    def _check_followups(self, inputs: list[str], results: list[SafetyResult], after_crisis: list[bool]) -> None:
        """After a flagged turn, a message nothing else flagged is also read by the follow-up stage, trained on
        the messages that come next ("he's here" flags, "thanks, I'm at my sister's" does not)."""
        if self.followup_model is None:
            return
        todo = [i for i, result in enumerate(results) if after_crisis[i] and result.category is None
                and not self._explained_categories(result) and _has_signal(inputs[i])]
        if not todo:
            return
        proba = self.followup_model.predict_proba([inputs[i] for i in todo], [results[i].lang for i in todo])
        for i, row in zip(todo, proba):
            if 1.0 - row[0] >= self.followup_model.threshold:
                _flag(results[i], FOLLOWUP_RULE_ID, self.followup_model.labels, row)

    def model_input(self, text: str, lang: str | None = None) -> str:
        """What the classifier reads (in training too): the text normalised by the rules of its language
        (``lang``, detected when None), with their masks blanked, so idioms, hyperbole and denials the rules
        know ("想死你了", "I'm not suicidal") are not relearned as risk by the classifier."""
        rules = self._rules_for(resolve_language(lang, text))
        if rules is not None:
            text = rules.mask(rules.normalize(text))
        return " ".join(text.split())

    def rules_reading(self, text: str, lang: str | None = None) -> tuple:
        """What the rules decide about a message that the learned stages depend on (outcome, contexts, what each stage
        reads); rule files that read every turn of a conversation alike give it one outcome under one model."""
        result = self._check_rules(text, lang)
        sentences = tuple(self.model_input(sentence, result.lang) for sentence in split_sentences(text))
        return (result.category, tuple(result.matched), tuple(result.suppressed), self._deferred_category(result),
                tuple(sorted(self._explained_categories(result))), self.model_input(text, result.lang), sentences)

    def _rules_for(self, lang: str):
        """The rules of ``lang``, or None when the rules file has none for it."""
        return next((rules for rules in self._languages if rules.lang == lang), None)

    def _check_rules(self, text: str, lang: str | None) -> SafetyResult:
        if not isinstance(text, str):
            raise TypeError(f"check() expects a string, got {type(text).__name__}")
        lang = resolve_language(lang, text)
        result = SafetyResult(crisis=False, category=None, lang=lang)
        messages: dict[str, str] = {}  # the whole message, normalised per language, for `scope: message` rules
        for sentence in split_sentences(text):
            for rules in self._languages:
                normalized = rules.normalize(sentence)
                if normalized:
                    _match(rules, "sentence", normalized, text, messages, result)
        for rules in self._languages:
            if rules.reads_whole_messages:
                _match(rules, "message", messages.setdefault(rules.lang, rules.normalize(text)), text, messages, result)
        categories = {rule_id.split("/")[1] for rule_id in result.matched}
        result.category = next((c for c in CATEGORIES if c in categories), None)
        return result

    def crisis_reply(self, result: SafetyResult, role=None, lang: str = "en", variant: int = 0,
                     message: str | None = None, situation: str | None = None) -> str:
        """The fixed, reviewed reply. ``variant``: how many crisis turns the conversation had before this one
        (0 = the first reply; later ones get the follow-up texts in turn, so a repeat is not met with the
        identical text). ``message``: the flagged text; when it reports someone else in danger (a worried helper)
        or a threat against the seeker, and nothing of the seeker's own risk, the reply is the one for that
        situation (``replies.situations`` in the rules file). ``situation``: the one :meth:`reply_situation` already
        chose (a conversation's later crisis turns keep the situation its first crisis reply started); its first-aid
        ``{advice}`` is the part that fits ``message``."""
        situation = situation or self.reply_situation(result, lang, variant, message)
        normalized = self._normalized(message, lang) if message is not None else None
        return self._texts.reply(result, self._persona(role), lang, variant, situation=situation,
                                 normalized_message=normalized)

    def reply_situation(self, result: SafetyResult, lang: str = "en", variant: int = 0, message: str | None = None,
                        continuing: str | None = None) -> str | None:
        """The situation :meth:`crisis_reply` answers (None: the usual texts): ``continuing`` while the message says
        nothing of the seeker's own risk, else one that this message starts."""
        if message is None:
            return None
        normalized = self._normalized(message, lang)
        if continuing is not None:
            return self._texts.situation(normalized, lang, continuing=continuing)
        if not _only_other_person_signals(result, self._groups):
            return None
        # the rule hits about someone else are the report even when the learned stage fired too ("my dad is hitting
        # my mom right now"); the seeker's own risk in the message is still read by the situation's `self`
        hits = [hit for hit in result.matched if hit not in (MODEL_RULE_ID, SENTENCE_RULE_ID)]
        rules = tuple(hit.rsplit("/", 1)[-1] for hit in hits)
        return self._texts.situation(normalized, lang, result.category, variant, rules=rules,
                                     groups=tuple(self._groups.get(hit) for hit in hits))

    def keep_situation(self, result: SafetyResult, text: str, lang: str | None, situation: str,
                       category: str | None) -> None:
        """Flag an unflagged ``result`` when ``text`` says the danger of the conversation's open ``situation`` still
        holds (a worried helper's "she's still not answering"): rule id ``situation/<name>``, the earlier
        ``category``. No model reads that sentence as a crisis on its own."""
        if not result.crisis and self._texts.still_ongoing(self._normalized(text, lang), lang, situation):
            result.matched.append(f"{SITUATION_RULE_PREFIX}{situation}")
            result.category = category if category in CATEGORIES else "suicide"
            result.crisis = True

    def _normalized(self, text: str, lang: str | None) -> str:
        """``text`` normalised by the rules of ``lang`` (lower case, contractions expanded), masks kept."""
        rules = self._rules_for(resolve_language(lang, text))
        return rules.normalize(text) if rules is not None else text.lower()

    def _persona(self, role):
        """A role id as the bank's Role (UnknownRoleError lists the valid ids); a Role or nothing as it is."""
        return self.roles.get(role) if isinstance(role, str) and role else role

    def resources_banner(self, lang: str = "en") -> str:
        return self._texts.banner(lang)


@lru_cache(maxsize=1)
def default_checker() -> SafetyChecker:
    return SafetyChecker()


def check_message(text: str, lang: str | None = None) -> SafetyResult:
    """Check one message with the shared default rules."""
    return default_checker().check(text, lang=lang)


def crisis_reply(result: SafetyResult, role=None, lang: str = "en", variant: int = 0,
                 message: str | None = None) -> str:
    """The reply for a flagged message: acknowledges the risk, urges emergency services or a crisis
    line, asks about safety. ``role`` (a Role or role id) only adds a line in the persona's name; ``message``
    lets a worried helper's report of someone else get the reply meant for them."""
    return default_checker().crisis_reply(result, role=role, lang=lang, variant=variant, message=message)


def resources_banner(lang: str = "en") -> str:
    """Markdown for the UI banner: emergency numbers and crisis lines."""
    return default_checker().resources_banner(lang)


def check_lines(lines: Iterable[str], checker: SafetyChecker | None = None) -> Iterator[dict]:
    """One JSON-ready dict per non-blank line: ``line``, ``text`` and the :class:`SafetyResult` fields.
    A line holding a JSON object with ``text`` (e.g. ``training/data/safety/safety_set.jsonl``) is read as such, with
    its ``history`` (earlier seeker turns) when it has one."""
    checker = checker or default_checker()
    for number, raw in enumerate(lines, 1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        text, lang, history = line, None, None
        if line.lstrip().startswith("{"):
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                record = None
            if isinstance(record, dict) and isinstance(record.get("text"), str):
                text, lang = record["text"], record.get("lang")
                history = record.get("history") if isinstance(record.get("history"), list) else None
        # the history is checked turn by turn first, as the app does (a flagged turn makes this one a follow-up)
        earlier = [turn for turn in map(_turn_text, history or []) if turn]
        result = checker.check_dialogues([[*earlier, text]], [lang])[0][-1]
        yield {"line": number, "text": text, **result.to_dict()}
