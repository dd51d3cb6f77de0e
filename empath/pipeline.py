"""EmpathPipeline: one object holding the loaded models, run once per seeker turn (the paper's Figure 4).

Per turn: safety check -> role matching (first turn, or again once a seeker who opened with greetings names a topic;
kept unless overridden) -> strategy prediction (background + context) -> emotion scoring and experience retrieval for
the persona -> prompt -> Group MoELoRA generation routed by (persona, strategy), streamed. Every component can be
switched off for the paper's ablations (Section 6.5) through ``Components``.

Where models come from (local folder or Hub ``id@revision``; unset = offline default):
``EMPATH_BASE_MODEL``, ``EMPATH_ADAPTER``, ``EMPATH_CLASSIFIERS``, ``EMPATH_EXPERIENCES``.

Languages: the base model declares which languages it answers in (``EMPATH_MODEL_LANGUAGES``, else the table
in ``empath/data/model_languages.yaml``; the offline default: English only). A turn in a language the model
cannot answer in is not generated: ``TurnResult.notice`` says so in the seeker's language, while safety,
role, strategy and experience still run.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Iterator

import numpy as np

from .dialogue import Background, Turn, detect_language
from .emotion import EMOTION_DIMS as EMOTION_DIMENSIONS
from .generation import ON_ZEROGPU, ChatGenerator, GenerationError, SamplingSettings
from .lang import clearly_written_in
from .languages import can_answer, language_notice, languages_for, parse_languages
from .messages import DEFAULT_MAX_MESSAGE_CHARS, InputError, clean_message
from .persona_lexicon import PersonaLexicon, default_lexicon
from .postprocess import clean_reply, consensus_reply
from .prompts import PromptParts, build_messages, persona_free_messages, wants_experience
from .roles import RoleBank, load_roles
from .small_talk import background_with, topic_known
from .strategies import STRATEGY_NAMES, normalize_strategy
from .turn import Conversation, ExperienceHit, RoleChoice, SafetyVerdict, StrategyChoice, TurnResult

if TYPE_CHECKING:
    from .group_moelora.routing import Route

AUTO = "auto"


@dataclass(frozen=True)
class Components:
    """Which parts of Empath run. All on = Empath; ``persona=False`` with the rest off = the base model."""

    role_matching: bool = True
    strategy_prediction: bool = True
    experience_rag: bool = True
    adapter: bool = True
    persona: bool = True


@dataclass
class PipelineConfig:
    base_model: str | None = None
    adapter: str | None = None
    classifiers: str | None = None
    experiences: str | None = None
    default_role: str | None = None  # used when role matching is off; None = first role of the bank
    max_message_chars: int = DEFAULT_MAX_MESSAGE_CHARS
    max_context_tokens: int = 2048
    # Languages the base model answers in ("en", "zh", ...); None = look it up in model_languages.yaml.
    languages: tuple[str, ...] | None = None
    # "full" or "compact" prompt (empath.prompts); None = what the adapter was trained with (its empath.json)
    prompt_style: str | None = None

    @classmethod
    def from_env(cls, **overrides) -> "PipelineConfig":
        env = {
            "base_model": os.environ.get("EMPATH_BASE_MODEL") or None,
            "adapter": os.environ.get("EMPATH_ADAPTER") or None,
            "classifiers": os.environ.get("EMPATH_CLASSIFIERS") or None,
            "experiences": os.environ.get("EMPATH_EXPERIENCES") or None,
            "max_message_chars": int(os.environ.get("EMPATH_MAX_MESSAGE_CHARS", DEFAULT_MAX_MESSAGE_CHARS)),
            "languages": parse_languages(os.environ.get("EMPATH_MODEL_LANGUAGES")),
            "prompt_style": os.environ.get("EMPATH_PROMPT_STYLE") or None,
        }
        env.update({k: v for k, v in overrides.items() if v is not None})
        if not env["base_model"]:  # EMPATH_LLM_BASE_URL + EMPATH_LLM_MODEL: that server writes the replies
            from .remote import env_ref

            env["base_model"] = env_ref()
        from .hub import default_adapter_for

        env["adapter"] = default_adapter_for(env["base_model"], env["adapter"])
        return cls(**env)


@contextmanager
def timed(timings: dict, name: str):
    """Record the block's wall time in milliseconds as ``timings[name]``."""
    start = time.perf_counter()
    yield
    timings[name] = _ms(start)


class EmpathPipeline:
    """Holds the models; ``stream``/``respond`` run one seeker turn. Components may be injected (tests)."""

    def __init__(self, config: PipelineConfig | None = None, *, roles: RoleBank | None = None,
                 generator: ChatGenerator | None = None, role_matcher=None, strategy_predictor=None,
                 emotion_scorer=None, experience_bank=None, safety_checker=None, lexicon=None):
        self.config = config or PipelineConfig.from_env()
        self.roles = roles or load_roles()
        self._generator = generator
        self._role_matcher = role_matcher
        self._strategy_predictor = strategy_predictor
        self._emotion_scorer = emotion_scorer
        self._experience_bank = experience_bank
        self._safety = safety_checker
        self._lexicon = lexicon

    # -- lazily loaded components (each built on first use, then shared) ------------------------
    def _component(self, attr: str, build):
        if getattr(self, attr) is None:
            setattr(self, attr, build())
        return getattr(self, attr)

    @property
    def lexicon(self) -> PersonaLexicon:
        """Each persona's own words, favoured at decoding when ``SamplingSettings.persona_lexicon`` > 0."""
        return self._component("_lexicon", default_lexicon)

    @property
    def generator(self) -> ChatGenerator:
        return self._component("_generator", self._load_generator)

    def _load_generator(self) -> ChatGenerator:
        from .hub import load_causal_lm
        from .remote import is_remote_ref, remote_generator

        if is_remote_ref(self.config.base_model):  # "openai:<model>[@<url>]": an OpenAI-compatible server
            return remote_generator(self.config.base_model, adapter=self.config.adapter)
        model, tokenizer = load_causal_lm(self.config.base_model)
        if self.config.adapter:
            from .adapter import load_adapter

            model = load_adapter(model, self.config.adapter).eval()
        return ChatGenerator(model, tokenizer, self.config.max_context_tokens)

    @property
    def prompt_style(self) -> str:
        """The prompt layout replies are generated with: the configured one, else the adapter's own."""
        from .hub import adapter_prompt_style

        if self.config.prompt_style is None:
            self.config = replace(self.config, prompt_style=adapter_prompt_style(self.config.adapter))
        return self.config.prompt_style

    @property
    def role_matcher(self):
        from .classifiers import RoleMatcher

        return self._component("_role_matcher", lambda: RoleMatcher.load(self.config.classifiers, roles=self.roles))

    @property
    def strategy_predictor(self):
        from .classifiers import StrategyPredictor

        return self._component("_strategy_predictor", lambda: StrategyPredictor.load(self.config.classifiers))

    @property
    def emotion_scorer(self):
        from .emotion import get_emotion_scorer

        return self._component("_emotion_scorer", get_emotion_scorer)

    @property
    def experience_bank(self):
        from .experiences import ExperienceBank

        return self._component("_experience_bank",
                               lambda: ExperienceBank.load(self.config.experiences, roles=self.roles))

    @property
    def safety(self):
        from .safety import SafetyChecker

        return self._component("_safety", lambda: SafetyChecker(roles=self.roles))

    def with_base_model(self, base_model: str, adapter: str | None = None) -> "EmpathPipeline":
        """Another language model behind the same classifiers, scorer, bank and safety checker (for
        side-by-side comparison); its own generator is loaded on first use."""
        config = replace(self.config, base_model=base_model, adapter=adapter, languages=None)  # its own languages
        return EmpathPipeline(config, roles=self.roles, role_matcher=self.role_matcher,
                              strategy_predictor=self.strategy_predictor, emotion_scorer=self.emotion_scorer,
                              experience_bank=self.experience_bank, safety_checker=self.safety, lexicon=self.lexicon)

    def warm_up(self) -> "EmpathPipeline":
        """Load every component now (app start-up) rather than on the first message, and run each once: a process's
        first turn otherwise pays one-off costs (first encoder passes, first ``generate()``: ~1 s of its reply's
        first-token time on 2 CPU cores)."""
        for name in ("safety", "role_matcher", "strategy_predictor", "emotion_scorer", "experience_bank", "generator"):
            getattr(self, name)
        message = "Hello, I have had a hard week."
        if isinstance(self.generator, ChatGenerator) and not ON_ZEROGPU:  # a local model on this machine: one short
            for _ in self.stream(Conversation(), message, settings=SamplingSettings(max_new_tokens=2), record=False):
                pass  # turn end to end (route merge, first generate()); a remote server is not called
        else:
            self.plan(Conversation(), message)
        return self

    @property
    def model_languages(self) -> tuple[str, ...] | None:
        """Languages the base model answers in (config, else model_languages.yaml); None = any."""
        return languages_for(self.config.base_model, self.config.languages)

    def answers_in(self, lang: str) -> bool:
        return can_answer(self.model_languages, lang)

    @property
    def has_adapter(self) -> bool:
        return self.generator.has_adapter

    # -- one turn: decisions ---------------------------------------------------------------------
    def plan(self, conversation: Conversation, message: str, *, role: str | None = None,
             strategy: str | None = None, lang: str | None = None,
             components: Components = Components()) -> TurnResult:
        """Everything except generation. Validates first, so a refused message leaves no trace."""
        timings: dict[str, float] = {}
        with timed(timings, "plan_total"):
            text = clean_message(message, self.config.max_message_chars)
            role_override = None if role in (None, "", AUTO) else self.roles.resolve(role).id
            strategy_override = None if strategy in (None, "", AUTO) else normalize_strategy(strategy)
            if lang not in (None, "", AUTO, "en", "zh"):
                raise InputError(f"unknown language {lang!r}; choose auto, en or zh")
            lang = lang if lang in ("en", "zh") else (conversation.lang or detect_language(text))
            background = background_with(conversation, text, lang)
            context = list(conversation.turns) + [Turn("seeker", text)]
            with timed(timings, "safety"):
                safety = self._check_safety(conversation, text, lang)
            with timed(timings, "role"):
                chosen_role = self._choose_role(conversation, background, role_override, components)
            with timed(timings, "strategy"):
                chosen_strategy = self._choose_strategy(background, context, strategy_override, components)
            with timed(timings, "experience"):
                retrieved = self._retrieve_experience(chosen_role.role, context, lang, components)
            experience_used = bool(retrieved.experience) and wants_experience(chosen_strategy.strategy)
            persona = self.roles.get(chosen_role.role) if (components.persona and chosen_role.role) else None
            parts = PromptParts(role=persona, strategy=chosen_strategy.strategy if components.persona else None,
                                experience_text=retrieved.experience["text"] if experience_used else None,
                                lang=lang, safety_followup=conversation.crisis, style=self.prompt_style)
            fixed = {r["response"] for r in conversation.results if r.get("crisis") and r.get("response")}
            messages = build_messages(parts, [(t.speaker, t.text) for t in context], safety_replies=fixed)
        return TurnResult(
            message=text, lang=lang, crisis=safety.crisis, crisis_mode=safety.crisis_mode, safety=safety.details,
            role=chosen_role.role, role_probs=dict(chosen_role.probs), role_source=chosen_role.source,
            strategy=chosen_strategy.strategy, strategy_probs=dict(chosen_strategy.probs),
            strategy_source=chosen_strategy.source, emotion=dict(retrieved.emotion), experience=retrieved.experience,
            experience_used=experience_used, components=asdict(components), messages=messages, timings_ms=timings,
            safety_result=safety.checked)

    def _check_safety(self, conversation: Conversation, text: str, lang: str) -> SafetyVerdict:
        earlier = [t.text for t in conversation.turns if t.speaker == "seeker"]
        checked = self.safety.check(text, lang=lang, history=earlier, after_crisis=conversation.crisis)
        situation, category = conversation.open_situation()
        if situation:
            self.safety.keep_situation(checked, text, lang, situation, category)
        crisis = bool(checked.crisis)
        return SafetyVerdict(crisis=crisis, crisis_mode=crisis or conversation.crisis, details=checked.to_dict(),
                             checked=checked)

    def _choose_role(self, conversation: Conversation, background: Background, override: str | None,
                     components: Components) -> RoleChoice:
        if not components.persona:
            return RoleChoice(None, "none")
        if override:
            return RoleChoice(override, "override")
        named = topic_known(background, conversation.lang)
        if conversation.role:  # one matched on greetings alone ("tentative") is matched again once a topic is named
            if topic_known(conversation.background, conversation.lang) or not components.role_matching \
                    or any(r.get("role_source") == "override" for r in conversation.results):
                return RoleChoice(conversation.role, "kept")
            if not named:
                return RoleChoice(conversation.role, "tentative")
        if components.role_matching:
            pred = self.role_matcher.predict(question=background.question, description=background.description,
                                             keywords=tuple(background.keywords))
            return RoleChoice(pred.role, "matched" if named else "tentative", dict(pred.probs))
        return RoleChoice(self.config.default_role or self.roles.ids[0], "default")

    def _choose_strategy(self, background: Background, context: list[Turn], override: str | None,
                         components: Components) -> StrategyChoice:
        if override:
            return StrategyChoice(override, "override")
        if components.strategy_prediction and components.persona:
            pred = self.strategy_predictor.predict(background, context)
            return StrategyChoice(pred.strategy, "predicted", dict(pred.probs))
        return StrategyChoice(None, "none")

    def _retrieve_experience(self, role: str | None, context: list[Turn], lang: str,
                             components: Components) -> ExperienceHit:
        if not (components.persona and components.experience_rag and role):
            return ExperienceHit()
        seeker_text = " ".join(t.text for t in context if t.speaker == "seeker")[-1000:]
        vector = np.asarray(self.emotion_scorer.score(seeker_text, lang=lang), dtype=np.float32)
        emotion = {d: round(float(v), 2) for d, v in zip(EMOTION_DIMENSIONS, vector)}
        hits = self.experience_bank.retrieve(role, vector, k=1)
        if not hits:
            return ExperienceHit(emotion)
        hit, exp = hits[0], hits[0].experience
        return ExperienceHit(emotion, {"id": exp.id, "text": exp.text_for(lang), "source": getattr(exp, "source", None),
                                       "similarity": round(float(hit.similarity), 4),
                                       "centred_similarity": _rounded(getattr(hit, "centred_similarity", None))})

    def route_for(self, result: TurnResult, components: Components) -> Route | None:
        """The Group MoELoRA route a turn is generated with; None = the base weights alone."""
        if not (components.adapter and components.persona and self.has_adapter and result.role):
            return None
        from .group_moelora.routing import Route  # the tuner (torch) only once an adapter routes a turn

        if not result.strategy:  # no predicted strategy (ablation): mix all strategy experts evenly
            return Route.uniform(result.role, len(STRATEGY_NAMES))
        return Route(result.role, result.strategy)

    # -- one turn: generation ------------------------------------------------------------------
    def stream(self, conversation: Conversation, message: str, *, role: str | None = None,
               strategy: str | None = None, lang: str | None = None, components: Components = Components(),
               settings: SamplingSettings | None = None, record: bool = True) -> Iterator[TurnResult]:
        """Yields the TurnResult as the reply grows; the last one is final. With ``record`` the turn
        (seeker message + reply) is appended to ``conversation`` once the reply is complete."""
        settings = settings or SamplingSettings()
        result = self.plan(conversation, message, role=role, strategy=strategy, lang=lang, components=components)
        with timed(result.timings_ms, "generate"):
            chosen = lang not in (None, "", AUTO)
            unanswerable = self._unanswerable_language(result, chosen=chosen)
            if not result.crisis and unanswerable:
                # The model cannot write this language: a plain notice, never generated noise (no model call).
                result.notice = language_notice(unanswerable, detect_language(result.message), self.config.base_model,
                                                self.model_languages)
                yield result
            elif result.crisis:
                # the fixed text in the language the seeker just wrote in, when clear and none was chosen
                self._give_crisis_reply(result, conversation,
                                        result.lang if chosen else clearly_written_in(result.message) or result.lang)
                yield result
            else:
                # The model's own earlier replies (not fixed safety texts, not a human's turns in a rebuilt history).
                own = [r["response"] for r in conversation.results if r.get("response") and not r.get("crisis")]
                yield from self._generate(result, components, settings, own)
        if record and not result.error:
            conversation.record(result)
        yield result

    def _unanswerable_language(self, result: TurnResult, chosen: bool) -> str | None:
        """The language this turn would need and the model cannot write, else None: the turn's language, or (unless
        the user chose one) the message's own, e.g. Chinese written into a conversation that began in English."""
        if not self.answers_in(result.lang):
            return result.lang
        message_lang = detect_language(result.message)
        return None if chosen or self.answers_in(message_lang) else message_lang

    def _give_crisis_reply(self, result: TurnResult, conversation: Conversation, lang: str) -> None:
        # A fixed, reviewed reply: a crisis turn is never left to the sampler. It is a safety reply, not a
        # helping-skill turn (no strategy, no experience); later crisis turns get the follow-up texts in turn.
        # A situation (a worried helper, a threatened seeker) started by an earlier crisis reply keeps its texts.
        role_obj = self.roles.get(result.role) if result.role else None
        earlier = [r for r in conversation.results if r.get("crisis")]
        continuing, _ = conversation.open_situation()
        situation = self.safety.reply_situation(result.safety_result, lang, len(earlier), result.message, continuing)
        if situation:
            result.safety["situation"] = situation
        # the message picks the situation's first-aid advice; with no situation it would pick a situation anew
        result.response = self.safety.crisis_reply(result.safety_result, role=role_obj, lang=lang, variant=len(earlier),
                                                   message=result.message if situation else None, situation=situation)
        result.lang = lang  # the turn's reply is in this language (the API, the export and the defect count read it)
        result.strategy, result.strategy_probs, result.strategy_source = None, {}, "safety"
        result.experience_used = False

    def _generate(self, result: TurnResult, components: Components, settings: SamplingSettings,
                  own_replies: list[str]) -> Iterator[TurnResult]:
        start = time.perf_counter()
        route = self.route_for(result, components)
        if route:
            weights = self.generator.gate_weights(route)
            result.gate_weights = {k: [round(float(x), 4) for x in np.asarray(v).ravel()] for k, v in weights.items()}
        extra = {}
        if settings.persona_guidance != 1.0 and result.role:  # steer away from the same turn without the persona
            extra["guidance_messages"] = persona_free_messages(result.messages, result.lang, self.prompt_style)
        if settings.persona_lexicon and components.persona and result.role:
            extra["persona_words"] = self.lexicon.words(result.role)
        # A sampled reply that cleaning leaves empty (e.g. all in another script) is drawn once more.
        for _ in range(2 if settings.temperature > 0 else 1):
            raw = ""
            try:
                # several drafts, the most agreed one shown (a local model; a remote server streams one reply)
                if settings.candidates > 1 and hasattr(self.generator, "drafts"):
                    drafts = self.generator.drafts(result.messages, settings, route, own_replies=own_replies, **extra)
                    anchors = None
                    if extra.get("persona_words"):  # as many plain drafts, to keep the persona's drafts on topic
                        anchors = self.generator.drafts(result.messages, replace(settings, persona_lexicon=0.0), route,
                                                        own_replies=own_replies)
                        anchors = [clean_reply(draft, result.lang) for draft in anchors]
                    result.drafts = [clean_reply(draft, result.lang) for draft in drafts]
                    raw = consensus_reply(result.drafts, anchors, agreement=settings.consensus)
                    result.timings_ms["first_token"] = result.timings_ms.get("first_token") or _ms(start)
                else:
                    first = None
                    for piece in self.generator.stream(result.messages, settings, route, own_replies=own_replies,
                                                       **extra):
                        first = first or _ms(start)
                        raw += piece
                        result.response = clean_reply(raw, result.lang, final=False)  # debris never shows
                        yield result
                    result.timings_ms["first_token"] = result.timings_ms.get("first_token") or first
            except GenerationError as exc:
                result.error = str(exc)
            result.response = clean_reply(raw, result.lang)
            if result.response or result.error:
                break
            if settings.seed is not None:
                settings = replace(settings, seed=settings.seed + 1)
        if not result.response and not result.error:
            result.error = "the model returned an empty reply; please try again"
        yield result

    def respond(self, conversation: Conversation, message: str, **kwargs) -> TurnResult:
        final = None
        for final in self.stream(conversation, message, **kwargs):
            pass
        return final


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)


__all__ = ["AUTO", "Components", "Conversation", "EmpathPipeline", "ExperienceHit", "InputError", "PipelineConfig",
           "RoleChoice", "SafetyVerdict", "SamplingSettings", "StrategyChoice", "TurnResult",
           "clean_message", "timed"]
