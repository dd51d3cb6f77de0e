"""The shared encoder memo (``empath.encoder_cache``) and the shipped encoders' threading, in the app's configuration."""

import numpy as np
import pytest

from empath.encoder_cache import cached_encoder
from empath.encoders import MULTILINGUAL_ENCODER, SMALL_BATCH, get_encoder
from empath.pipeline import Conversation, EmpathPipeline, PipelineConfig
from tests._tiny import tiny_generator


class CountingEncoder:
    """Passes calls through to a real encoder and counts every text it is asked to embed."""

    def __init__(self, encoder):
        self.inner, self.name, self.dim, self.texts = encoder, encoder.name, encoder.dim, []

    def encode(self, texts, batch_size=64):
        self.texts.extend(texts)
        return self.inner.encode(texts, batch_size=batch_size)


def test_a_turn_embeds_each_text_once_per_encoder(monkeypatch):
    pipeline = EmpathPipeline(PipelineConfig(), generator=tiny_generator())  # shipped safety, classifiers, bank
    pipeline.plan(Conversation(), "warm-up message about my week")
    counters = {}
    for name in ("use-multilingual", "all-minilm-l6-v2"):
        shared = cached_encoder(name)
        counters[name] = CountingEncoder(shared.encoder)
        monkeypatch.setattr(shared, "encoder", counters[name])
    message = "I failed my driving test for the third time and my brother laughed at me"
    result = pipeline.plan(Conversation(), message)
    assert result.role and result.strategy and not result.crisis
    # Safety (both encoders; its own normalised form), role matching (Eq. 9 text) and strategy (the last seeker turn)
    # read the message; the memo means no text is embedded twice by one encoder in a turn.
    for counter in counters.values():
        assert message.lower() in [t.lower() for t in counter.texts]
        assert len(counter.texts) == len(set(counter.texts)), counter.texts
    pipeline.plan(Conversation(), message)  # the same message again (a retry): nothing new to embed
    assert all(len(c.texts) == len(set(c.texts)) for c in counters.values())


def test_the_multilingual_encoder_runs_a_chat_turn_on_one_thread_and_batches_on_all():
    encoder = get_encoder(MULTILINGUAL_ENCODER)
    texts = [f"My exams start on day {i} and I cannot focus at all" for i in range(SMALL_BATCH + 8)]
    one = encoder.encode(texts[:1])
    assert encoder.model._model.threads == 1
    batch = encoder.encode(texts)
    assert encoder.model._model.threads == encoder.threads > 1
    assert np.allclose(one[0], batch[0], atol=1e-5)  # the thread count changes the speed, not the vector
