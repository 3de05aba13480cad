"""Indexing: articles → passages → analysed terms → a BM25 index, fast enough for an archive.

Passages are tokenized once, each distinct word is analysed once (compound splitting and
stemming cost tens of microseconds a word, so per distinct word, not per token), and from
PARALLEL_FROM passages on both run in one worker process per core. The index is built from
word ids and equals `Index.build` over `Analyzer.analyze` of every passage.
"""

from __future__ import annotations

import os
import sys
from array import array
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from bot.knowledge.articles import Article, load_articles
from bot.knowledge.passages import article_passages
from bot.language.dictionary import Dictionary
from bot.language.german import Analyzer, words
from bot.language.thesaurus import default_thesaurus
from bot.search.engine import Engine
from bot.search.lexical.index import Index

PARALLEL_FROM = 20_000  # passages: from here on, analyse in one worker process per core
CHUNK = 20_000  # passages a worker tokenizes at a time


def tokenize(texts: Sequence[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The distinct words of the texts (`german.words`), all their words as int32 ids into
    them, text after text, and how many words each text has."""
    types: dict[str, int] = {}
    add, ids = types.setdefault, array("i")
    lengths = np.zeros(len(texts), dtype=np.int64)
    for i, text in enumerate(texts):
        found = words(text)
        lengths[i] = len(found)
        ids.extend([add(w, len(types)) for w in found])
    return list(types), np.frombuffer(ids, dtype=np.int32), lengths


def _word_terms(frequencies: Counter[str], distinct: list[str]) -> list[tuple[str, ...]]:
    analyzer = Analyzer(frequencies)
    return [analyzer.word_terms(w) for w in distinct]


def build_engine(articles: list[Article], progress: bool = False) -> Engine:
    """Analyse and index articles, printing progress to stderr when asked.

    Passages are tokenized once, each distinct word is analysed once, and from PARALLEL_FROM
    passages on both run in one worker process per core; the index is built from word ids.
    It equals `Index.build` over `Analyzer.analyze` of every passage.
    """
    passages = [p for article in articles for p in article_passages(article)]
    texts = [p.text for p in passages]
    workers = min(os.cpu_count() or 1, -(-len(texts) // PARALLEL_FROM))
    spawn = get_context("spawn")
    with ProcessPoolExecutor(workers, spawn) if workers > 1 else nullcontext() as pool:
        analyzer, word_terms, token_ids, lengths = _analyse(texts, workers, pool, progress)
    if progress:
        print("\ranalysing passages 100%", file=sys.stderr)
    index = Index.from_words(passages, word_terms, token_ids, lengths)
    return Engine(articles, index, analyzer)


def build_engine_from_folder(folder: Path, dictionary: Dictionary | None = None) -> Engine:
    """Load every article of a knowledge folder and index it (`build_engine`, the pipeline
    `newsbot index` uses), with the system thesaurus."""
    lexical = build_engine(load_articles(folder))
    return Engine(lexical.articles, lexical.index, lexical.analyzer, dictionary,
                  thesaurus=default_thesaurus())


def _analyse(
    texts: list[str], workers: int, pool: ProcessPoolExecutor | None, progress: bool
) -> tuple[Analyzer, list[tuple[str, ...]], np.ndarray, np.ndarray]:
    """Tokenize (in chunks, on the pool if any), count, and analyse each distinct word once."""
    chunks = [texts[i : i + CHUNK] for i in range(0, len(texts), CHUNK)]
    types: dict[str, int] = {}
    tokens, lengths = [], []
    for i, (local, ids, counts) in enumerate((pool.map if pool else map)(tokenize, chunks)):
        to_global = np.fromiter((types.setdefault(w, len(types)) for w in local), np.int32,
                                len(local))
        tokens.append(to_global[ids])
        lengths.append(counts)
        if progress:
            print(f"\ranalysing passages {(i + 1) * 90 // len(chunks):3d}%", end="",
                  file=sys.stderr)
    token_ids = np.concatenate(tokens) if tokens else np.zeros(0, np.int32)
    del tokens, chunks
    frequencies: Counter[str] = Counter()  # what count_words(texts) gives
    counts = np.bincount(token_ids, minlength=len(types)).tolist()
    for word, count in zip(types, counts, strict=True):
        for part in word.split("-"):
            frequencies[part] += count
    analyzer, distinct = Analyzer(frequencies), list(types)
    if pool:
        shares = list(pool.map(_word_terms, [frequencies] * workers,
                               [distinct[i::workers] for i in range(workers)]))
        word_terms = [shares[i % workers][i // workers] for i in range(len(distinct))]
        analyzer.remember(dict(zip(distinct, word_terms, strict=True)))
    else:
        word_terms = [analyzer.word_terms(w) for w in distinct]
    counts_per_text = np.concatenate(lengths) if lengths else np.zeros(0, np.int64)
    return analyzer, word_terms, token_ids, counts_per_text
