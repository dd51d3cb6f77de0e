"""App benchmark on the offline default (run from the repository root: ``python -m benchmarks.app [--users 8] [--quick]``).

Measures, in one run on this machine:
1. cold start: ``python app.py`` launched as a fresh process until the server answers;
2. one reply through the pipeline: time to first token and tokens/s; and the whole reply, one sampled draft against
   the persona voice's drafts (4 with the persona lexicon anchored to 4 without, README "Persona voice"), side by
   side over the English messages (the ratio is what the voice costs);
3. the pipeline's non-generation overhead per turn (safety, role, strategy, emotion, retrieval, prompt),
   p50/p95 over a set of seeker messages (target <= 30 ms on 2 CPU cores), and the same with the crisis detector's
   English encoder head given no share (side by side: the ratio is the head's cost);
4. N concurrent gradio_client users against that server: every request answered, none failed.
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

from benchmarks._clients import run_concurrently

ROOT = Path(__file__).resolve().parent.parent  # where app.py is

MESSAGES = [
    "I lost my job last week and I feel worthless.",
    "My girlfriend broke up with me and I can't stop thinking about her.",
    "My parents keep fighting and I feel it's my fault.",
    "I can't sleep at night, my mind keeps racing.",
    "I procrastinate on everything and hate myself for it.",
    "My friends stopped inviting me to things.",
    "我最近压力很大，总是睡不着。",
    "考试又没考好，觉得自己很没用。",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(port: int) -> tuple[subprocess.Popen, float]:
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False"}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    import urllib.request

    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"app exited early: {proc.stderr.read()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                return proc, time.perf_counter() - t0
        except OSError:
            time.sleep(0.25)


def one_reply(pipeline, max_new_tokens: int) -> dict:
    from empath.generation import SamplingSettings
    from empath.pipeline import Conversation

    settings = SamplingSettings(max_new_tokens=max_new_tokens, seed=0)
    t0 = time.perf_counter()
    first = None
    result = None
    for result in pipeline.stream(Conversation(), MESSAGES[0], settings=settings):
        if first is None and result.response:
            first = time.perf_counter() - t0
    total = time.perf_counter() - t0
    n_tokens = len(pipeline.generator.tokenizer(result.response, add_special_tokens=False)["input_ids"])
    decode_time = max(total - (first or 0.0), 1e-6)
    return {"ttft_s": first, "tokens": n_tokens, "tokens_per_s": (n_tokens - 1) / decode_time, "total_s": total}


def whole_reply_s(pipeline, settings, role: str = "juliet") -> float:
    """Median seconds for the whole reply to each English message with ``settings``, the persona forced."""
    from empath.pipeline import Conversation

    times = []
    for message in MESSAGES[:6]:
        t0 = time.perf_counter()
        pipeline.respond(Conversation(), message, role=role, settings=settings, record=False)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def overhead(pipeline, rounds: int, tag: str = "") -> dict:
    from empath.pipeline import Conversation

    times = []
    for r in range(rounds):
        for message in MESSAGES:
            message = f"{message} ({tag}{r})"  # a new text each time: no encoder cache hits
            t0 = time.perf_counter()
            pipeline.plan(Conversation(), message)
            times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {"p50_ms": statistics.median(times), "p95_ms": times[int(0.95 * (len(times) - 1))], "n": len(times)}


def concurrent_users(url: str, users: int, max_new_tokens: int) -> dict:
    from gradio_client import Client

    from empath.generation import SamplingSettings

    DEFAULTS = SamplingSettings()  # the app's own decoding

    def user(i: int) -> tuple[bool, str]:
        client = Client(url, verbose=False)
        out = client.predict(MESSAGES[i % len(MESSAGES)], [], "auto", "auto", "auto", DEFAULTS.temperature,
                             DEFAULTS.top_p, max_new_tokens, api_name="/chat")
        status = out[-2]  # /chat returns ..., Status, Strategy for the next reply (README "API")
        ok = bool(out[0]) and len(out[0]) == 2 and not status
        return ok, "" if ok else f"status={status!r}"

    return {"users": users, **run_concurrently(users, user, timeout=900)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=5, help="overhead rounds over the message set")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 users, 16 tokens, 1 round")
    args = parser.parse_args()
    if args.quick:
        args.users, args.max_new_tokens, args.rounds = 2, 16, 1

    from empath.pipeline import Conversation, EmpathPipeline

    port = free_port()
    proc, cold = start_app(port)
    try:
        t0 = time.perf_counter()
        pipeline = EmpathPipeline().warm_up()
        in_process_load = time.perf_counter() - t0
        pipeline.plan(Conversation(), "warm-up message")  # first-call costs (tokenizers, caches) are not per turn
        reply = one_reply(pipeline, args.max_new_tokens)
        from empath.generation import SamplingSettings

        one = SamplingSettings(max_new_tokens=args.max_new_tokens, candidates=1, persona_lexicon=0.0, seed=0)
        voiced = whole_reply_s(pipeline, replace(one, candidates=4, persona_lexicon=4.5))
        single = whole_reply_s(pipeline, one)
        over = overhead(pipeline, args.rounds)
        model = pipeline.safety.model
        share, model.encoder_head_weight = model.encoder_head_weight, 0.0  # a head with no share is not run
        try:
            headless = overhead(pipeline, args.rounds, tag="b")
        finally:
            model.encoder_head_weight = share
        load = concurrent_users(f"http://127.0.0.1:{port}/", args.users, args.max_new_tokens)
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    print(f"\n## App benchmark (offline default: SmolLM2-135M-Instruct, {os.cpu_count()} CPU threads)\n")
    print("| measure | value |\n|---|---|")
    print(f"| cold start `python app.py` -> serving | {cold:.1f} s |")
    print(f"| pipeline load in process (all components) | {in_process_load:.1f} s |")
    print(f"| time to first token (one reply, {args.max_new_tokens} new tokens max) | {reply['ttft_s']:.2f} s |")
    print(f"| decode speed | {reply['tokens_per_s']:.1f} tokens/s ({reply['tokens']} tokens) |")
    print(f"| whole reply, median over 6 English messages: one draft / persona voice (4 + 4 anchored drafts); ratio | "
          f"{single:.2f} / {voiced:.2f} s; {voiced / single:.2f}x |")
    print(f"| non-generation overhead per turn, p50 / p95 (n={over['n']}) | "
          f"{over['p50_ms']:.1f} / {over['p95_ms']:.1f} ms (target <= 30 ms) |")
    print(f"| ... without the crisis detector's English encoder head, p50 / p95; ratio of p50s | "
          f"{headless['p50_ms']:.1f} / {headless['p95_ms']:.1f} ms; {over['p50_ms'] / headless['p50_ms']:.2f}x |")
    print(f"| {load['users']} concurrent gradio_client users: answered / failed | {load['answered']} / {load['failed']} |")
    print(f"| ... wall time, p50 / max latency per user | {load['wall_s']:.1f} s, {load['p50_s']:.1f} / {load['max_s']:.1f} s |")
    if load["errors"]:
        print("\nerrors:", *load["errors"], sep="\n- ")


if __name__ == "__main__":
    main()
