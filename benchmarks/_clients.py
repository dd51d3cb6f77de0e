"""Concurrent clients for the serving benchmarks: N requests at once, one thread each, and what came back."""

from __future__ import annotations

import statistics
import threading
import time
from typing import Callable


def run_concurrently(count: int, request: Callable[[int], tuple[bool, str]], timeout: float) -> dict:
    """Run ``request(i)`` for ``i < count`` at once; answered / failed counts, wall time, p50 / max latency."""
    outcomes: list[tuple[bool, float, str]] = []
    lock = threading.Lock()

    def client(i: int) -> None:
        t0 = time.perf_counter()
        try:
            ok, detail = request(i)
        except Exception as exc:  # noqa: BLE001 - a failed request is what this measures
            ok, detail = False, f"{type(exc).__name__}: {exc}"
        with lock:
            outcomes.append((ok, time.perf_counter() - t0, detail))

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    wall = time.perf_counter() - t0
    latencies = sorted(s for _, s, _ in outcomes)
    return {"answered": sum(ok for ok, _, _ in outcomes), "failed": sum(not ok for ok, _, _ in outcomes),
            "wall_s": wall, "p50_s": statistics.median(latencies) if latencies else None,
            "max_s": latencies[-1] if latencies else None, "errors": [d for ok, _, d in outcomes if not ok][:3]}
