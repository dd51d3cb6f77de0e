"""Single-route fast path (issue 12, item 1): a turn's route is merged into the weights, kept while the next turns
use it, swapped when the route changes and unmerged before a base-model turn; the outputs equal the fused path's."""

from __future__ import annotations

import copy

import pytest
import torch

from empath.generation import ChatGenerator, SamplingSettings
from tests._tiny import tiny_adapter_generator, tiny_generator

GREEDY = SamplingSettings(temperature=0.0, max_new_tokens=6)
MESSAGES = [{"role": "system", "content": "You are kind."}, {"role": "user", "content": "I feel alone tonight."}]
A = {"role": "juliet", "strategy": "Question"}
B = {"role": "juliet", "strategy": "Reflection of feelings"}
C = {"role": "harry_potter", "strategy": [1.0 / 8] * 8}  # the no-strategy ablation's uniform mix: one route too


def probe(generator):
    return generator.tokenizer("I lost my job and my friends.", return_tensors="pt")["input_ids"]


def base_weights(model):
    return {n: p.detach().clone() for n, p in model.named_parameters() if "base_layer" in n}


def fused_logits(model, x, route):
    with torch.no_grad():
        return model(input_ids=x, role_ids=route["role"], **_strategy_kwargs(route)).logits


def _strategy_kwargs(route):
    s = route["strategy"]
    return {"strategy_weights": s} if isinstance(s, list) else {"strategy_ids": s}


def turn(generator, route):
    return "".join(generator.stream(MESSAGES, GREEDY, route))


@pytest.fixture()
def pair():
    """Two generators on identical copies of one tiny adapter model: fast path on, and off (fused reference)."""
    fast = tiny_adapter_generator()
    fast.merge_routes = True
    fused = ChatGenerator(copy.deepcopy(fast.model), fast.tokenizer, merge_routes=False)
    return fast, fused


def test_fast_path_logits_equal_the_fused_path(pair):
    fast, fused = pair
    x = probe(fast)
    for route in (A, B, C):
        expected = fused_logits(fused.model, x, route)
        turn(fast, route)
        assert fast.model.merged_route is not None  # the turn left its route merged
        with torch.no_grad(), fast.model.route(**route):
            merged = fast.model(input_ids=x).logits
        torch.testing.assert_close(merged, expected, atol=1e-5, rtol=1e-5)


def test_fast_path_generates_what_the_fused_path_generates(pair):
    fast, fused = pair
    for route in (A, B, A, None, C):
        assert turn(fast, route) == turn(fused, route)
    assert fused.model.merged_route is None  # merging off: never merged


def test_same_route_stays_merged_and_a_new_route_is_swapped(pair):
    fast, _ = pair
    turn(fast, A)
    turn(fast, A)
    assert fast.route_switches == 1
    turn(fast, B)
    assert fast.route_switches == 2 and fast.model.is_merged_for(B["role"], B["strategy"])


def test_switching_routes_leaves_no_residue(pair):
    fast, fused = pair
    model = fast.model
    original = base_weights(model)
    x = probe(fast)
    turn(fast, A)
    turn(fast, None)  # a base-model turn unmerges first
    assert model.merged_route is None
    for name, param in model.named_parameters():  # one round trip: a few ulps at most
        if name in original:
            torch.testing.assert_close(param, original[name], atol=1e-6, rtol=0)
    # Many swaps in place (fp32 weights): the round-off of each stays at the ulp level of |W + ΔW| and does
    # not grow beyond a random walk (here ΔW is of order 1, far above a trained adapter's).
    for _ in range(10):
        for route in (A, B, C):
            fast._routing(route)
    fast._routing(None)
    for name, param in model.named_parameters():
        if name in original:
            torch.testing.assert_close(param, original[name], atol=1e-5, rtol=0)
    with torch.no_grad(), fused.model.disable_adapter():
        base = fused.model(input_ids=x).logits
    with torch.no_grad(), model.disable_adapter():
        torch.testing.assert_close(model(input_ids=x).logits, base, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(fused_logits(model, x, B), fused_logits(fused.model, x, B), atol=1e-5, rtol=1e-5)


def test_base_model_turn_after_a_merged_turn_sees_the_base_weights(pair):
    fast, fused = pair
    turn(fast, A)
    assert turn(fast, None) == turn(fused, None)
    assert fast.model.merged_route is None


def test_disable_adapter_unmerges_a_merged_model(pair):
    fast, fused = pair
    x = probe(fast)
    fast.model.merge_route(A["role"], A["strategy"])
    with torch.no_grad(), fast.model.disable_adapter():
        got = fast.model(input_ids=x).logits
    with torch.no_grad(), fused.model.disable_adapter():
        expected = fused.model(input_ids=x).logits
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


def test_merging_off_unmerges_before_the_fused_path(pair):
    fast, fused = pair
    x = probe(fast)
    turn(fast, A)
    fast.merge_routes = False  # e.g. a mixed-route use of the same model
    turn(fast, B)
    assert fast.model.merged_route is None
    torch.testing.assert_close(fused_logits(fast.model, x, B), fused_logits(fused.model, x, B), atol=1e-5, rtol=1e-5)


def test_half_precision_weights_are_restored_exactly():
    generator = tiny_adapter_generator()
    model = generator.model
    for _, layer in model.adapter_layers():
        layer.get_base_layer().to(torch.bfloat16)
    original = base_weights(model)
    for route in (A, B, C, A):
        model.merge_route(route["role"], route["strategy"])
    changed = any(not torch.equal(p, original[n]) for n, p in model.named_parameters() if n in original)
    assert changed  # the route really is in the weights
    model.unmerge()
    for name, param in model.named_parameters():
        if name in original:
            assert torch.equal(param, original[name]), name


def test_env_switch(monkeypatch):
    monkeypatch.setenv("EMPATH_MERGE_ROUTES", "0")
    generator = tiny_adapter_generator()
    assert not generator.merge_routes
    turn(generator, A)
    assert generator.model.merged_route is None


def test_scoring_between_turns_goes_through_the_generator(pair):
    """Gold-reply perplexity uses the generator's model between turns: another route or the base must work."""
    from empath.evaluation import gold_reply_loss

    fast, fused = pair
    turn(fast, A)
    for route in (B, None, A):
        got = gold_reply_loss(fast, MESSAGES, "That sounds hard.", route)
        expected = gold_reply_loss(fused, MESSAGES, "That sounds hard.", route)
        assert got[1] == expected[1] and got[0] == pytest.approx(expected[0], rel=1e-4)


def test_closing_the_stream_early_stops_generation_and_frees_the_model():
    """A consumer that goes away (a closed SSE stream, a closed browser tab) must not leave generate() running
    on the shared model after the lock is released."""
    import time

    generator = tiny_adapter_generator()
    pieces = generator.stream(MESSAGES, SamplingSettings(temperature=0.0, max_new_tokens=2000), A)
    next(pieces)
    t0 = time.perf_counter()
    pieces.close()
    assert time.perf_counter() - t0 < 5
    assert generator._lock.acquire(blocking=False)  # free: the worker has finished
    generator._lock.release()
    assert turn(generator, A)  # and the next turn works


def test_a_route_object_routes_as_its_dict_and_gives_the_gate_weights(pair):
    """``ChatGenerator`` takes an ``empath.group_moelora.Route`` wherever it takes today's dict route."""
    import numpy as np

    from empath.group_moelora import Route

    fast, fused = pair
    for route, typed in ((A, Route("juliet", "Question")), (C, Route.uniform("harry_potter", 8))):
        assert turn(fast, typed) == turn(fused, route)
        expected = fast.model.gate_weights(**route)
        for group, weights in fast.gate_weights(typed).items():
            np.testing.assert_allclose(weights, expected[group])
        assert fast.gate_weights(route).keys() == {"role", "strategy"}
    assert fast.gate_weights(None) == {}
    assert tiny_generator().gate_weights(A) == {}  # no adapter, no gates
    with fast.routed(Route("juliet", "Question")) as model:
        assert model.is_merged_for("juliet", "Question")
