"""Time `Engine.ask` over the dev news archive: tests/knowledge with ../shared/data's
news-archive-dev loaded (vectors from .eval/archive, as `make eval` saves them), the first N
newsqa-dev questions, wall and CPU milliseconds at p50 / p99; then questions per second from
one thread and from two (the bot's two engine workers).

    .venv/bin/python benchmarks/archive_latency.py [--questions 300] [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from bench_semantic import per_second

from bot.cli import openmp_threads
from bot.config import load_settings
from bot.indexing.loading import Vectors, load_engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--questions", type=int, default=300)
    args = parser.parse_args()
    openmp_threads(1)  # as every `newsbot` command: before the model loads
    settings = replace(load_settings(), knowledge_dir=Path("tests/knowledge"),
                       index_dir=Path(".eval/archive"))
    started = time.perf_counter()
    engine = load_engine(settings, vectors=Vectors.NOW, archives=[args.data / "news-archive-dev"])
    print(f"loaded {len(engine.index)} passages in {time.perf_counter() - started:.1f} s "
          f"(semantic stage: {'on' if engine.hybrid else 'off'})")
    path = args.data / "newsqa-dev" / "questions.jsonl"
    questions = [json.loads(line)["q"] for line in path.read_text("utf-8").splitlines()
                 if line.strip()][: args.questions]
    wall, cpu = [], []
    for question in questions:
        t, c = time.perf_counter(), time.process_time()
        engine.ask(question)
        wall.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    for name, values in (("wall", wall), ("cpu (both threads)", cpu)):
        print(f"{name}: p50 {np.percentile(values, 50):.1f} ms, "
              f"p99 {np.percentile(values, 99):.1f} ms over {len(values)} questions")
    rates = [rate for _, rate in per_second(engine.ask, questions)]
    print(f"questions/s: {rates[0]:.1f} from one thread, {rates[1]:.1f} from two "
          f"({rates[1] / rates[0]:.2f}×)")


if __name__ == "__main__":
    main()
