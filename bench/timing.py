"""What both benchmarks print for one measured operation."""

from __future__ import annotations

import statistics


def summary(name: str, latencies_ms: list[float], total_s: float, extra: str = "") -> str:
    ordered = sorted(latencies_ms)
    count = len(ordered)
    p95 = ordered[max(0, int(count * 0.95) - 1)]
    line = (
        f"{name:<36} {count:>5} ops  {count / total_s:8.1f} ops/s  p50 {statistics.median(ordered):6.2f} ms"
        f"  p95 {p95:6.2f} ms"
    )
    return f"{line}  {extra}" if extra else line
