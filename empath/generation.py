"""Text generation for one reply: chat template, sampling settings, streaming, Group MoELoRA routing.

One ``ChatGenerator`` wraps one loaded model; a lock serialises generation so a single model copy is
shared safely between concurrent app users (routing state lives on the adapter layers during a call).
On a ZeroGPU Space the streaming function runs under ``@spaces.GPU``; elsewhere that decorator is a no-op.

Single-route fast path: a turn has one (persona, strategy) route, fixed before the first token, so with a Group
MoELoRA adapter the route's combined update is merged into the weights and decoding runs at base-model speed. The
merged route stays merged while the next turns keep it; it is swapped (one pass per layer) when the route changes,
and unmerged before a base-model turn (``route=None``) or a mixed-route batch, all under the generator's lock.
``EMPATH_MERGE_ROUTES=0`` turns this off (every turn then runs the fused adapter path); on ZeroGPU it is off by
default, since weights changed inside a GPU call need not persist to the next one.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Iterator, Sequence

from .persona_lexicon import word_bias
from .postprocess import CONSENSUS_AGREEMENTS

if TYPE_CHECKING:  # the tuner (torch, peft) is imported only once a model with an adapter routes a turn
    from .group_moelora.routing import Route

try:  # Hugging Face Spaces (ZeroGPU) allocate a GPU per decorated call.
    import spaces

    gpu = spaces.GPU
    ON_ZEROGPU = True
except ImportError:  # pragma: no cover - the package is only present on Spaces
    def gpu(fn=None, **_kwargs):
        return fn if fn is not None else (lambda f: f)

    ON_ZEROGPU = False


class GenerationError(RuntimeError):
    """Generation failed; the message is safe to show to a user."""


@dataclass
class SamplingSettings:
    """Sampling at temperature 0.7 from the 3 likeliest tokens (``top_k``) by default: on ESConv valid it keeps
    greedy decoding's overlap with the human replies and is less generic across replies (greedy gives the same
    openings to many messages); temperature 0 is greedy, and ``"sample"`` in the evaluation is the paper's Table 6
    (0.7, top-p 0.95, transformers' top-k 50). New tokens are capped at 64 rather than 256 (a supporter turn is 1-3
    sentences; a small model only runs on past that). ``repetition_penalty`` (not in the paper) defaults to 1.1 over
    the reply's own tokens: small models otherwise loop on one phrase; the prompt is exempt, since penalising its
    words pushes a reply away from what the seeker said. ``no_repeat_reply_ngram`` (4) keeps a reply from reusing a
    4-gram of the model's own earlier replies in the conversation, so it does not answer every short message with
    the same line. ``min_new_tokens`` (12) keeps a reply from ending before 12 new tokens: the model's replies were
    shorter than the human supporters' (a BLEU brevity penalty of 0.72), and on ESConv valid 12 tokens raised every
    overlap score while corpus Distinct-2 stayed above 0.7x the human replies' (16 fell under it)."""

    temperature: float = 0.7  # paper (Table 6): 0.7; top_k and top_p apply only when sampling
    top_p: float = 1.0  # paper: 0.95
    top_k: int = 3  # 0 = no top-k cut (transformers' own default is 50)
    max_new_tokens: int = 64  # paper: 256; a supporter turn is 1-3 sentences, more only runs on
    min_new_tokens: int = 12  # no end of the reply before this many tokens (ESConv valid: README "Replies")
    repetition_penalty: float = 1.1
    no_repeat_reply_ngram: int = 4  # 0 = off: never reuse an n-gram of the model's own earlier replies
    # > 1: classifier-free guidance away from the turn's persona-free prompt (opt-in; README "Persona voice")
    persona_guidance: float = 1.0
    # > 0: logit bonus for the persona's own words (opt-in; empath.persona_lexicon, README "Persona voice")
    persona_lexicon: float = 0.0
    # > 1: sample this many replies in one batch and show the one closest to the others, whole (opt-in; local models;
    # README "Replies"); with persona_lexicon, as many more without it, and the persona draft closest to those is shown
    candidates: int = 1
    consensus: str = "rouge-l"  # how the drafts are compared: empath.postprocess.CONSENSUS_AGREEMENTS
    seed: int | None = None

    def __post_init__(self):
        if not 0.0 <= self.temperature <= 2.0:
            raise ValueError(f"temperature must be in [0, 2], got {self.temperature}")
        if not 0.0 < self.top_p <= 1.0:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        self.top_k = _whole_number("top_k", self.top_k, 0, 1000, " (0 = off)")  # 3.0 from a JSON body is 3
        if not 1 <= int(self.max_new_tokens) <= 2048:
            raise ValueError(f"max_new_tokens must be in [1, 2048], got {self.max_new_tokens}")
        self.min_new_tokens = _whole_number("min_new_tokens", self.min_new_tokens, 1, 2048)
        if not 1.0 <= self.repetition_penalty <= 2.0:
            raise ValueError(f"repetition_penalty must be in [1, 2], got {self.repetition_penalty}")
        if not 1.0 <= self.persona_guidance <= 3.0:
            raise ValueError(f"persona_guidance must be in [1, 3] (1 = off), got {self.persona_guidance}")
        lexicon = self.persona_lexicon
        if isinstance(lexicon, bool) or not isinstance(lexicon, (int, float)) or not 0.0 <= lexicon <= 10.0:
            raise ValueError(f"persona_lexicon must be in [0, 10] (0 = off), got {self.persona_lexicon}")
        self.persona_lexicon = float(lexicon)
        self.candidates = _whole_number("candidates", self.candidates, 1, 16, " (1 = off)")
        if self.consensus not in CONSENSUS_AGREEMENTS:
            raise ValueError(f"consensus must be one of {', '.join(CONSENSUS_AGREEMENTS)}, got {self.consensus!r}")
        if self.candidates > 1 and self.temperature == 0:
            raise ValueError("candidates > 1 needs sampling (temperature > 0): greedy decoding gives one reply")
        if self.candidates > 1 and self.persona_guidance != 1.0:
            raise ValueError("candidates > 1 cannot be combined with persona_guidance (guidance runs one sequence)")
        if self.no_repeat_reply_ngram != 0 and not 2 <= self.no_repeat_reply_ngram <= 16:
            raise ValueError(f"no_repeat_reply_ngram must be 0 (off) or in [2, 16], got {self.no_repeat_reply_ngram}")

    def generate_kwargs(self, prompt_length: int = 0, earlier_replies: list[list[int]] = (), tokenizer=None,
                        guidance_ids=None, sequence_bias: list | None = None) -> dict:
        """``generate()`` arguments; the repetition penalty skips the first ``prompt_length`` tokens, and the reply
        may not repeat an n-gram of ``earlier_replies`` (token ids of the model's own earlier replies, by ``tokenizer``).
        With ``persona_guidance`` > 1 and ``guidance_ids`` (the persona-free prompt), transformers' classifier-free
        guidance scales the logits away from that prompt's. ``sequence_bias``: transformers' ``sequence_bias`` for the
        persona's words (``empath.persona_lexicon.word_bias``), used when ``persona_lexicon`` > 0."""
        from transformers import LogitsProcessorList, RepetitionPenaltyLogitsProcessor

        # a shorter max_new_tokens wins (a 4-token API request is not an error)
        common = {"max_new_tokens": int(self.max_new_tokens),
                  "min_new_tokens": min(int(self.min_new_tokens), int(self.max_new_tokens))}
        if self.persona_guidance != 1.0 and guidance_ids is not None:
            common.update(guidance_scale=float(self.persona_guidance), negative_prompt_ids=guidance_ids)
        if self.persona_lexicon and sequence_bias:
            common["sequence_bias"] = sequence_bias
        processors = LogitsProcessorList()
        if self.repetition_penalty != 1.0:
            penalty = float(self.repetition_penalty)
            processors.append(RepetitionPenaltyLogitsProcessor(penalty, prompt_ignore_length=prompt_length))
        if self.no_repeat_reply_ngram and earlier_replies:
            processors.append(NoRepeatFromEarlierReplies(earlier_replies, self.no_repeat_reply_ngram, prompt_length,
                                                         tokenizer))
        if processors:
            common["logits_processor"] = processors
        if self.temperature == 0:
            return {"do_sample": False, **common}
        return {"do_sample": True, "temperature": float(self.temperature), "top_p": float(self.top_p),
                "top_k": int(self.top_k), **common}

    to_dict = asdict


def _whole_number(name: str, value, low: int, high: int, note: str = "") -> int:
    """``value`` as an int when it is a whole number in [low, high] (3.0 from a JSON body is 3), else ValueError; the
    range is checked before int(), which fails on inf, nan and non-numbers, and a bool is not a number here."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high \
            or value != int(value):
        raise ValueError(f"{name} must be an integer in [{low}, {high}]{note}, got {value}")
    return int(value)


class NoRepeatFromEarlierReplies:
    """A logits processor: the reply may not reuse any ``n``-gram of the model's own earlier replies in the
    conversation. Greedy decoding otherwise gives the same line to every short message ("What do you think about
    the job?" four turns running). The seeker's words, the system prompt and a human supporter's turns (the gold
    history of an evaluation) stay free to reuse.

    Earlier replies are token ids of their text; a model may spell the same text with other tokens, so with a
    ``tokenizer`` the reply so far is compared in that same spelling (its tail decoded and encoded again)."""

    def __init__(self, earlier_replies: list[list[int]], n: int, prompt_length: int, tokenizer=None):
        self.n, self.prompt_length, self.tokenizer = n, prompt_length, tokenizer
        self.banned: dict[tuple[int, ...], set[int]] = {}
        for ids in earlier_replies:
            for i in range(len(ids) - n + 1):
                self.banned.setdefault(tuple(ids[i:i + n - 1]), set()).add(ids[i + n - 1])

    def _tail(self, ids: list[int]) -> tuple[int, ...]:
        if self.tokenizer is not None:
            text = self.tokenizer.decode(ids[-(self.n + 4):], skip_special_tokens=True).lstrip()  # as replies are stored
            ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
        return tuple(ids[len(ids) - self.n + 1:]) if len(ids) >= self.n - 1 else ()

    def __call__(self, input_ids, scores):
        for row, ids in enumerate(input_ids[:, self.prompt_length:].tolist()):
            banned = self.banned.get(self._tail(ids)) if ids else None
            if banned:
                scores[row, list(banned)] = float("-inf")
        return scores


class ChatGenerator:
    """Streams a reply for chat messages from ``model`` (a causal LM or a GroupMoELoraModel)."""

    def __init__(self, model, tokenizer, max_context_tokens: int = 2048, merge_routes: bool | None = None):
        self.model = model
        self.tokenizer = tokenizer
        self.max_context_tokens = max_context_tokens
        if merge_routes is None:
            flag = os.environ.get("EMPATH_MERGE_ROUTES", "").strip().lower()
            merge_routes = flag in ("1", "true", "yes", "on") if flag else not ON_ZEROGPU
        self.merge_routes = bool(merge_routes)
        self._lock = threading.Lock()
        self._decoder: tuple[int, ThreadPoolExecutor] | None = None  # (pid, the thread every turn decodes on)
        self.route_switches = 0  # how many times a (different) route was merged in: observable in tests

    def _routing(self, route: Route | dict | None):
        """The context a turn generates in (called under the lock): the merged fast path for one route, the fused
        path for a mixed-route batch (or with merging off), the base weights alone for ``route=None``."""
        if not self.has_adapter:
            return nullcontext()
        from .group_moelora.routing import route_kwargs

        model = self.model
        route = route_kwargs(route)
        merged = getattr(model, "merged_route", None) is not None
        if not route:  # base model: the merged update must leave the weights first
            if merged:
                model.unmerge()
            return model.disable_adapter()
        if self.merge_routes and hasattr(model, "merge_route"):
            role = model.route_probs("role", route.get("role"))
            strategy = model.route_probs("strategy", route.get("strategy"))
            if role is not None and strategy is not None and role.shape[0] == 1 and strategy.shape[0] == 1:
                if model.merge_route(role, strategy):
                    self.route_switches += 1
                return model.route(**route)
        if merged:  # mixed routes (or merging off): the fused path needs the original weights
            model.unmerge()
        return model.route(**route)

    def _decoding_thread(self) -> ThreadPoolExecutor:
        """One long-lived thread per process for every turn's ``generate()``: its OpenMP team stays warm between
        turns, where a new thread per turn decoded ~10 % slower on 2 cores (``benchmarks/serving.py``). A forked
        process (ZeroGPU runs calls in one) inherits no threads, so it gets its own."""
        if self._decoder is None or self._decoder[0] != os.getpid():
            self._decoder = (os.getpid(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="empath-decode"))
        return self._decoder[1]

    @property
    def has_adapter(self) -> bool:
        return hasattr(self.model, "route") and hasattr(self.model, "gate_weights")

    def gate_weights(self, route: Route | dict | None) -> dict:
        """The adapter's softmax gate outputs for ``route``: ``{"role": [experts], "strategy": [experts]}`` as numpy
        arrays; ``{}`` without an adapter or a route. Reads the gates only, so it needs no lock."""
        if not route or not self.has_adapter:
            return {}
        from .group_moelora.routing import route_kwargs

        return self.model.gate_weights(**route_kwargs(route))

    @contextmanager
    def routed(self, route: Route | dict | None):
        """Hold the lock with the model set up for ``route`` as a turn would be (for scoring with ``self.model``
        between turns, e.g. gold-reply perplexity): a merged route is kept, swapped or unmerged as needed."""
        with self._lock, self._routing(route):
            yield self.model

    def encode(self, messages: list[dict]):
        """Chat-template input ids; the oldest dialogue turns are dropped (system kept) to fit the context."""
        messages = list(messages)
        while True:
            enc = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                                     return_dict=True)
            if enc["input_ids"].shape[1] <= self.max_context_tokens or len(messages) <= 2:
                return enc
            del messages[1]

    def stream(self, messages: list[dict], settings: SamplingSettings, route: Route | dict | None = None,
               own_replies: Sequence[str] = (), guidance_messages: list[dict] | None = None,
               persona_words: Sequence[str] = ()) -> Iterator[str]:
        """Yields text pieces as they are generated. ``route``: a :class:`Route` or the kwargs of ``model.route``;
        None with an adapter loaded runs the base model with the adapter disabled (PEFT's ``disable_adapter()``).
        ``own_replies``: this model's earlier replies in the conversation, whose n-grams the reply may not reuse.
        ``guidance_messages``: the persona-free prompt that ``settings.persona_guidance`` steers away from;
        ``persona_words``: the words ``settings.persona_lexicon`` favours."""
        yield from _stream_on_gpu(self, messages, settings, route, own_replies, guidance_messages, persona_words)

    def drafts(self, messages: list[dict], settings: SamplingSettings, route: Route | dict | None = None,
               own_replies: Sequence[str] = (), guidance_messages: list[dict] | None = None,
               persona_words: Sequence[str] = ()) -> list[str]:
        """``settings.candidates`` replies sampled for the same prompt in one batch (whole, not streamed); the
        arguments are :meth:`stream`'s."""
        return _drafts_on_gpu(self, messages, settings, route, own_replies, guidance_messages, persona_words)

    def _generation_args(self, messages, settings, own_replies, guidance_messages, persona_words) -> tuple[dict, dict]:
        """The encoded prompt on the model's device and the ``generate()`` arguments for one turn."""
        inputs = self.encode(messages)
        device = next(self.model.parameters()).device
        inputs = {k: v.to(device) for k, v in inputs.items()}
        guidance_ids = None
        if settings.persona_guidance != 1.0 and guidance_messages:
            guidance_ids = self.encode(guidance_messages)["input_ids"].to(device)
        bias = word_bias(persona_words, self.tokenizer, settings.persona_lexicon) \
            if settings.persona_lexicon and persona_words else None
        earlier = [self.tokenizer(text, add_special_tokens=False)["input_ids"] for text in own_replies]
        kwargs = settings.generate_kwargs(inputs["input_ids"].shape[1], earlier, self.tokenizer, guidance_ids, bias)
        return inputs, {**kwargs, "pad_token_id": self.tokenizer.pad_token_id}

    def _drafts(self, messages, settings, route, own_replies=(), guidance_messages=None, persona_words=()):
        import torch

        inputs, kwargs = self._generation_args(messages, settings, own_replies, guidance_messages, persona_words)

        def run():
            if settings.seed is not None:
                torch.manual_seed(settings.seed)
            with self._routing(route), torch.inference_mode():
                return self.model.generate(**inputs, **kwargs, num_return_sequences=settings.candidates)

        with self._lock:
            worker = self._decoding_thread().submit(run)
            try:
                output = worker.result()
            except Exception as exc:
                raise GenerationError(f"generation failed: {type(exc).__name__}: {exc}") from exc
            finally:
                wait([worker])  # an interrupted caller releases the lock only once the model is free again
        prompt_length = inputs["input_ids"].shape[1]
        return [self.tokenizer.decode(row[prompt_length:], skip_special_tokens=True) for row in output]

    def _stream(self, messages, settings, route, own_replies=(), guidance_messages=None, persona_words=()):
        import torch
        from transformers import StoppingCriteriaList, TextIteratorStreamer

        inputs, kwargs = self._generation_args(messages, settings, own_replies, guidance_messages, persona_words)
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=300)
        failure: list[BaseException] = []

        def run():
            try:
                if settings.seed is not None:
                    torch.manual_seed(settings.seed)
                # A system without the adapter (base model, prompt-only) runs the base weights alone.
                with self._routing(route), torch.inference_mode():
                    self.model.generate(**inputs, **kwargs, streamer=streamer,
                                        stopping_criteria=StoppingCriteriaList([_StopWhenSet(stop)]))
            except BaseException as exc:  # surfaced to the caller below, never swallowed
                failure.append(exc)
                streamer.end()

        stop = threading.Event()
        with self._lock:
            worker = self._decoding_thread().submit(run)
            try:
                for piece in streamer:
                    if piece:
                        yield piece
            finally:
                # A consumer that stops early (a closed stream, a client that went away) ends generation at the
                # next token, and the lock is released only once the model is free again.
                stop.set()
                worker.result()
        if failure:
            raise GenerationError(f"generation failed: {type(failure[0]).__name__}: {failure[0]}") from failure[0]


class _StopWhenSet:
    """A ``generate()`` stopping criterion: stop every sequence once ``event`` is set."""

    def __init__(self, event: threading.Event):
        self.event = event

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        return torch.full((input_ids.shape[0],), self.event.is_set(), dtype=torch.bool, device=input_ids.device)


@gpu
def _drafts_on_gpu(generator: ChatGenerator, messages, settings, route, own_replies=(), guidance_messages=None,
                   persona_words=()):
    return generator._drafts(messages, settings, route, own_replies, guidance_messages, persona_words)


@gpu
def _stream_on_gpu(generator: ChatGenerator, messages, settings, route, own_replies=(), guidance_messages=None,
                   persona_words=()):
    yield from generator._stream(messages, settings, route, own_replies, guidance_messages, persona_words)
