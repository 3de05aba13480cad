"""The question log's cost to a handler and its writer's throughput (docs/report.md).

    .venv/bin/python benchmarks/bench_questionlog.py [--records 5000]

Times `QuestionLog.answered()` — what a handler calls on the event loop — for each record, then
how long the writer thread takes to have all of them on disk, in a fresh temporary folder.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bot.feedback.asked import Asked, Outcome
from bot.feedback.store import QuestionLog


def main() -> None:
    """Print the percentiles of one `answered()` call and the records written per second."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=5000)
    n = parser.parse_args().records
    asked = Asked("Wer will Tiktok kaufen?", "de", Outcome.SURE, 0, "Tiktok", "x" * 400)
    with tempfile.TemporaryDirectory() as folder:
        log = QuestionLog(Path(folder))
        log.answered(asked, "private", 1, 0, 1)
        log.flush()  # the database made, the writer running
        calls = []
        started = time.perf_counter()
        for number in range(1, n + 1):
            before = time.perf_counter()
            log.answered(asked, "private", number % 50, number, number % 50)
            calls.append(time.perf_counter() - before)
        log.flush()
        total = time.perf_counter() - started
        log.close()
        size = sum(p.stat().st_size for p in Path(folder).iterdir())
    calls.sort()
    p50, p99 = calls[len(calls) // 2], calls[int(len(calls) * 0.99)]
    print(f"answered(): p50 {p50 * 1e6:.1f} µs, p99 {p99 * 1e6:.1f} µs, max "
          f"{calls[-1] * 1e3:.1f} ms; {n} records on disk after {total:.2f} s "
          f"({n / total:,.0f}/s); {size / n:.0f} bytes a record")


if __name__ == "__main__":
    main()
