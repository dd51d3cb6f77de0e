"""Serving benchmark on the offline default (run from the repository root: ``python -m benchmarks.serving [--tokens 64] [--clients 8]``).

All numbers come from one run on this machine, so the ratios compare like with like:
1. decode tokens/s on the app's own prompt (Empath's system prompt, the demo adapter's route), same sampling
   settings and seed, each ``generate()`` on one long-lived thread as the app runs it (also in the main thread, and
   on a new thread per call as the app did before; a new thread's OpenMP team starts cold and decoded ~10 % slower
   here): bare ``generate()`` of the base model; the same with the route fused (the adapter's expert sum per
   token) and merged (the single-route fast path); the base with ``TextIteratorStreamer`` in a thread (the
   streamer's cost); the base greedy (the sampling processors' cost) and on a short prompt (the prompt length's
   cost); and the app path itself (``EmpathPipeline.stream``), with the fast path on and off. Tokens are timed
   inside ``generate()`` (a timestamp per generated token), decode = (tokens - 1) / (last - first);
2. first-token latency of the app path (message in -> first reply text out: safety, persona, strategy, experience,
   prompt, route merge, prefill);
3. the pipeline's non-generation overhead per turn on unseen messages (p50 / p95, per stage), and on messages of
   three sentences, with the safety stage's sentence-by-sentence read on and off (the ratio is its cost);
4. the HTTP API's added latency over the same request handled in process (``EmpathAPI.completion``), measured with
   constant-cost stand-ins for the models (a fixed reply, fixed decisions) so only the HTTP/JSON layer differs;
5. N concurrent OpenAI-client requests to ``python -m empath serve`` (streamed), all answered or not.
Prints a Markdown table (and ``--json`` a JSON object).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from benchmarks._clients import run_concurrently
from empath.generation import SamplingSettings


class FixedLength(SamplingSettings):
    """The app's sampling settings, with ``min_new_tokens`` = ``max_new_tokens``: every run decodes as many tokens."""

    def generate_kwargs(self, *args, **kwargs) -> dict:
        return {**super().generate_kwargs(*args, **kwargs), "min_new_tokens": int(self.max_new_tokens)}


MESSAGES = [
    "I lost my job last week and I feel worthless.",
    "My girlfriend broke up with me and I can't stop thinking about her.",
    "My parents keep fighting and I feel it's my fault.",
    "I can't sleep at night, my mind keeps racing.",
    "I procrastinate on everything and hate myself for it.",
    "My friends stopped inviting me to things.",
    "My exams are next week and I can't focus at all.",
    "I moved to a new city and I don't know anyone here.",
]


class Clock:
    """A ``generate()`` streamer that only timestamps each generated token (the first ``put`` is the prompt)."""

    def __init__(self):
        self.times: list[float] = []
        self._prompt_seen = False

    def put(self, value):
        if not self._prompt_seen:
            self._prompt_seen = True
            return
        self.times.append(time.perf_counter())

    def end(self):
        pass

    def rate(self) -> dict:
        n = len(self.times)
        span = self.times[-1] - self.times[0] if n > 1 else float("nan")
        return {"tokens": n, "tokens_per_s": (n - 1) / span if n > 1 else float("nan")}


def _timed_put():
    """Timestamps for the app path: wrap ``TextIteratorStreamer.put`` (called in the generation thread per token)."""
    from transformers import TextIteratorStreamer

    stamps: list[float] = []
    original = TextIteratorStreamer.put

    def put(self, value):
        stamps.append(time.perf_counter())
        return original(self, value)

    TextIteratorStreamer.put = put
    return stamps, lambda: setattr(TextIteratorStreamer, "put", original)


def decode_speeds(pipeline, tokens: int, seed: int = 0, repeats: int = 3) -> dict:
    """Each configuration ``repeats`` times, interleaved (so a busy machine slows all alike); medians."""
    import torch
    from transformers import TextIteratorStreamer

    from empath.pipeline import Conversation

    generator = pipeline.generator
    settings = SamplingSettings(max_new_tokens=tokens, seed=seed)
    plan = pipeline.plan(Conversation(), MESSAGES[0])
    route = pipeline.route_for(plan, plan_components())
    inputs = generator.encode(plan.messages)
    short = generator.encode([{"role": "user", "content": MESSAGES[0]}])
    out = {"prompt_tokens": int(inputs["input_ids"].shape[1]), "short_prompt_tokens": int(short["input_ids"].shape[1]),
           "route": route.as_kwargs() if route else None, "repeats": repeats}

    decoder = ThreadPoolExecutor(max_workers=1)  # one long-lived thread, as the app decodes on

    def bare(route_, merge, enc=inputs, sampling=None, streamer_cls=None, thread="long-lived"):
        """``generate()`` on a long-lived thread as the app runs it, on a new thread per call (as the app did before)
        or in this (main) thread."""
        generator.merge_routes = merge
        kwargs = (sampling or settings).generate_kwargs()
        kwargs.update(min_new_tokens=tokens, max_new_tokens=tokens)  # same length for every run
        clock = Clock()
        streamer = clock if streamer_cls is None else streamer_cls(generator.tokenizer, skip_prompt=True,
                                                                      skip_special_tokens=True)

        def generate():
            with torch.inference_mode():
                torch.manual_seed(seed)
                generator.model.generate(**enc, **kwargs, streamer=streamer, pad_token_id=generator.tokenizer.pad_token_id)

        with generator.routed(route_):
            if thread == "main":
                generate()
                return clock.rate()
            stamps, restore = _timed_put()
            pool = decoder if thread == "long-lived" else ThreadPoolExecutor(max_workers=1)  # "new": a fresh thread
            worker = pool.submit(generate)
            if streamer_cls is not None:  # the streamer the app uses, drained by this thread
                for _ in streamer:
                    pass
            worker.result()
            if pool is not decoder:
                pool.shutdown()
            restore()
            if streamer_cls is not None:
                clock.times = stamps[1:]
        return clock.rate()

    fixed = FixedLength(max_new_tokens=tokens, seed=seed)  # the app path also decodes exactly ``tokens`` tokens

    def app(merge):
        generator.merge_routes = merge
        stamps, restore = _timed_put()
        try:
            t0 = time.perf_counter()
            first = None
            for result in pipeline.stream(Conversation(), MESSAGES[0], settings=fixed, record=False):
                if first is None and result.response:
                    first = time.perf_counter() - t0
        finally:
            restore()
        times = stamps[1:]  # the first put is the prompt
        return {"tokens": len(times),
                "tokens_per_s": (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else float("nan"),
                "first_token_s": first, "error": result.error}

    runs = {"base": lambda: bare(None, True),
            "base_main_thread": lambda: bare(None, True, thread="main"),
            "base_new_thread": lambda: bare(None, True, thread="new"),
            "route_fused": lambda: bare(route, False) if route else None,
            "route_merged": lambda: bare(route, True) if route else None,
            "base_streamer": lambda: bare(None, True, streamer_cls=TextIteratorStreamer),
            "base_greedy": lambda: bare(None, True, sampling=SamplingSettings(temperature=0.0, max_new_tokens=tokens)),
            "base_short_prompt": lambda: bare(None, True, enc=short),
            "app_fused": lambda: app(False),
            "app_fast_path": lambda: app(True)}
    bare(None, True)  # warm-up
    samples: dict[str, list] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            sample = run()
            if sample is not None:
                samples[name].append(sample)
    generator.merge_routes = True
    for name, values in samples.items():
        if values:
            values.sort(key=lambda v: v["tokens_per_s"])
            out[name] = {**values[len(values) // 2], "all_tokens_per_s": [round(v["tokens_per_s"], 2) for v in values]}
    out["app_vs_base"] = out["app_fast_path"]["tokens_per_s"] / out["base"]["tokens_per_s"]
    return out


def plan_components():
    from empath.pipeline import Components

    return Components()


def first_token(pipeline, rounds: int) -> dict:
    from empath.generation import SamplingSettings
    from empath.pipeline import Conversation

    times = []
    for i in range(rounds):
        t0 = time.perf_counter()
        for result in pipeline.stream(Conversation(), f"{MESSAGES[i % len(MESSAGES)]} ({i})",
                                      settings=SamplingSettings(max_new_tokens=4, seed=i), record=False):
            if result.response:
                times.append(time.perf_counter() - t0)
                break
    return {"p50_s": statistics.median(times), "max_s": max(times), "n": len(times)}


def overhead(pipeline, rounds: int) -> dict:
    from empath.pipeline import Conversation

    totals, stages = [], {}
    for r in range(rounds):
        for message in MESSAGES:
            t0 = time.perf_counter()
            plan = pipeline.plan(Conversation(), f"{message} (take {r}, {time.time_ns() % 997})")  # unseen text
            totals.append((time.perf_counter() - t0) * 1000)
            for stage, ms in plan.timings_ms.items():
                stages.setdefault(stage, []).append(ms)
    totals.sort()
    return {"p50_ms": statistics.median(totals), "p95_ms": totals[int(0.95 * (len(totals) - 1))], "n": len(totals),
            "stages_p50_ms": {k: round(statistics.median(v), 2) for k, v in stages.items()}}


def long_message_overhead(pipeline, rounds: int) -> dict:
    """Overhead per turn on messages of three or more sentences, which the safety stage also reads one sentence
    at a time, with that sentence read on and off in alternating order (same messages, same run)."""
    from empath.pipeline import Conversation
    from empath.safety_rules import split_sentences

    safety = pipeline.safety
    shipped = safety.sentence_threshold
    groups = [MESSAGES[i:i + 3] for i in range(0, len(MESSAGES) - 2, 2)]
    times = {"on": [], "off": []}
    try:
        for r in range(rounds):
            for j, group in enumerate(groups):
                for side in (("on", "off") if (r + j) % 2 == 0 else ("off", "on")):
                    safety.sentence_threshold = shipped if side == "on" else None
                    tag = f"{side}{r}-{time.time_ns() % 99991}"  # every sentence unseen: the encoders memoise texts
                    message = " ".join(f"{sentence[:-1]} ({tag}{k})." for k, sentence in enumerate(group))
                    t0 = time.perf_counter()
                    pipeline.plan(Conversation(), message)
                    times[side].append((time.perf_counter() - t0) * 1000)
    finally:
        safety.sentence_threshold = shipped
    on, off = statistics.median(times["on"]), statistics.median(times["off"])
    return {"p50_ms_sentence_read": on, "p50_ms_whole_only": off, "ratio": on / off, "n": len(times["on"]),
            "sentences": min(len(split_sentences(" ".join(g))) for g in groups)}


class FixedReply:
    """A generator that answers at once: the HTTP measurement then sees only the API layer's own cost."""

    has_adapter = False
    tokenizer = None

    def stream(self, messages, settings, route=None, own_replies=()):
        yield "That sounds hard. "
        yield "I am here with you."


def api_latency(pipeline, rounds: int) -> dict:
    import httpx

    from empath.pipeline import EmpathPipeline
    from empath.server import EmpathAPI

    # Constant-cost stand-ins for every model: the two paths then differ only by the HTTP/JSON layer (with the real
    # encoders the per-message cost varies by more than that layer costs, on a shared 2-core machine).
    import numpy as np
    from types import SimpleNamespace as NS

    role = pipeline.roles.ids[0]
    fixed = EmpathPipeline(
        pipeline.config, roles=pipeline.roles, generator=FixedReply(),
        role_matcher=NS(predict=lambda **kw: NS(role=role, probs={role: 1.0})),
        strategy_predictor=NS(predict=lambda *a, **kw: NS(strategy="Question", probs={"Question": 1.0})),
        emotion_scorer=NS(score=lambda text, lang=None: np.full(8, 5.0, dtype=np.float32)),
        experience_bank=NS(retrieve=lambda *a, **kw: []),
        safety_checker=NS(check=lambda text, lang=None, **kw: NS(crisis=False, to_dict=lambda: {"crisis": False})))
    api = EmpathAPI(fixed)

    def body(i, side):  # a text neither path has seen (the encoders cache by text)
        text = f"{MESSAGES[i % len(MESSAGES)]} [{side}{i}-{time.time_ns() % 100003}]"
        return {"model": "empath", "messages": [{"role": "user", "content": text}], "max_tokens": 16}

    def local(i):
        t0 = time.perf_counter()
        api.completion(api.parse(body(i, "local")))
        in_process.append((time.perf_counter() - t0) * 1000)

    def remote(i):
        t0 = time.perf_counter()
        response = client.post(url + "/v1/chat/completions", json=body(i, "http"))
        over_http.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, response.text

    in_process, over_http = [], []
    with api_server(fixed) as url, httpx.Client(timeout=60) as client:
        client.post(url + "/v1/chat/completions", json=body(-1, "warm"))  # warm-up
        for i in range(rounds):  # interleaved, each going first half the time, so drift hits both alike
            for run in ((local, remote) if i % 2 else (remote, local)):
                run(i)
    return {"in_process_p50_ms": statistics.median(in_process), "http_p50_ms": statistics.median(over_http),
            "added_p50_ms": statistics.median(over_http) - statistics.median(in_process), "n": rounds}


def concurrent_clients(pipeline, clients: int, tokens: int) -> dict:
    import openai

    with api_server(pipeline) as url:
        def ask(i):
            client = openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0, timeout=900)
            text = "".join(c.choices[0].delta.content or "" for c in client.chat.completions.create(
                model="empath", stream=True, max_tokens=tokens, seed=i,
                messages=[{"role": "user", "content": MESSAGES[i % len(MESSAGES)]}]) if c.choices)
            return bool(text), ""

        return {"clients": clients, **run_concurrently(clients, ask, timeout=1800)}


class api_server:
    """``python -m empath serve``'s app on a free port, in a thread."""

    def __init__(self, pipeline):
        self.pipeline = pipeline

    def __enter__(self) -> str:
        import uvicorn

        from empath.server import create_app

        self.server = uvicorn.Server(uvicorn.Config(create_app(self.pipeline), host="127.0.0.1", port=0,
                                                    log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)
        return f"http://127.0.0.1:{self.server.servers[0].sockets[0].getsockname()[1]}"

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=64, help="new tokens per decode measurement")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repeats of each decode measurement")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--client-tokens", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3, help="overhead rounds over the message set")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from empath.pipeline import Conversation, EmpathPipeline, PipelineConfig

    t0 = time.perf_counter()
    pipeline = EmpathPipeline(PipelineConfig.from_env()).warm_up()
    load_s = time.perf_counter() - t0
    pipeline.plan(Conversation(), "warm-up message")
    decode = decode_speeds(pipeline, args.tokens, repeats=args.repeats)
    ttft = first_token(pipeline, 4)
    over = overhead(pipeline, args.rounds)
    over_long = long_message_overhead(pipeline, args.rounds)
    http = api_latency(pipeline, 4 * len(MESSAGES))
    load = concurrent_clients(pipeline, args.clients, args.client_tokens)
    report = {"cpu_threads": os.cpu_count(), "load_s": load_s, "decode": decode, "first_token": ttft,
              "overhead": over, "overhead_long": over_long, "api": http, "concurrent": load}
    if args.json:
        print(json.dumps(report, indent=2, default=str))
        return

    def rate(name):
        d = decode.get(name)
        return f"{d['tokens_per_s']:.1f} tok/s (runs: {d['all_tokens_per_s']})" if d else "n/a (no adapter)"

    base = decode["base"]["tokens_per_s"]
    print(f"\n## Serving benchmark (offline default, {os.cpu_count()} CPU threads, {args.tokens} new tokens, "
          f"prompt {decode['prompt_tokens']} tokens, medians of {args.repeats} interleaved runs)\n")
    print("| measure | value | vs bare base generate() |\n|---|---|---|")
    for name, label in (("base", "bare `generate()`, base model, app prompt, app sampling, long-lived thread"),
                        ("route_fused", "... with the route, fused adapter path"),
                        ("route_merged", "... with the route merged (fast path)"),
                        ("base_streamer", "... base + TextIteratorStreamer in a thread"),
                        ("base_main_thread", "... base, `generate()` in the main thread"),
                        ("base_new_thread", "... base, `generate()` on a new thread per call"),
                        ("base_greedy", "... base, greedy (no sampling processors)"),
                        ("base_short_prompt", f"... base, short prompt ({decode['short_prompt_tokens']} tokens)"),
                        ("app_fused", "app path (`EmpathPipeline.stream`), fast path off"),
                        ("app_fast_path", "app path, fast path on (default)")):
        d = decode.get(name)
        ratio = f"{d['tokens_per_s'] / base:.2f}x" if d else ""
        print(f"| {label} | {rate(name)} | {ratio} |")
    print(f"| first-token latency, app path (p50 / max of {ttft['n']}) | {ttft['p50_s']:.2f} / {ttft['max_s']:.2f} s | |")
    print(f"| non-generation overhead per turn, unseen messages, p50 / p95 (n={over['n']}) | "
          f"{over['p50_ms']:.1f} / {over['p95_ms']:.1f} ms | |")
    print(f"| ... per stage, p50 ms | {', '.join(f'{k} {v}' for k, v in over['stages_p50_ms'].items())} | |")
    print(f"| ... long messages ({over_long['sentences']}+ sentences), p50: safety reads each sentence too / "
          f"whole message only (n={over_long['n']} each) | {over_long['p50_ms_sentence_read']:.1f} / "
          f"{over_long['p50_ms_whole_only']:.1f} ms | {over_long['ratio']:.2f}x |")
    print(f"| HTTP API added latency, p50 (in process {http['in_process_p50_ms']:.1f} ms, over HTTP "
          f"{http['http_p50_ms']:.1f} ms, n={http['n']}) | {http['added_p50_ms']:.1f} ms | |")
    print(f"| {load['clients']} concurrent API clients (streamed, {args.client_tokens} tokens): answered / failed | "
          f"{load['answered']} / {load['failed']} (wall {load['wall_s']:.1f} s, p50 {load['p50_s']:.1f} s, "
          f"max {load['max_s']:.1f} s) | |")
    print(f"\napp path vs bare base `generate()`: {decode['app_vs_base']:.2f}x (target >= 0.95x); vs the same in the "
          f"main thread: {decode['app_fast_path']['tokens_per_s'] / decode['base_main_thread']['tokens_per_s']:.2f}x")
    if load["errors"]:
        print("\nerrors:", *load["errors"], sep="\n- ")


if __name__ == "__main__":
    main()
