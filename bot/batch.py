"""The console commands over whole sets: `eval` (a question set) and `index` (the knowledge
folder saved, then embedded)."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace

from bot.config import Settings
from bot.errors import NewsbotError
from bot.evaluate import evaluate, read_questions, report
from bot.indexing import embed
from bot.indexing.loading import Vectors, load_engine
from bot.indexing.lock import writer_lock
from bot.indexing.storage import build_and_save, is_current, open_index, remove_leftovers
from bot.search.engine import Engine
from bot.text import clean_question


def _announce(message: str) -> None:
    """Slow start-up work (the first parse of the dictionary) is said on stderr at once."""
    print(f"newsbot: {message}", file=sys.stderr, flush=True)


def evaluate_command(settings: Settings, args: argparse.Namespace) -> int:
    """Score a question set; with --sweep, also for a range of abstention thresholds."""
    questions = [{**item, "q": clean_question(item["q"], settings.max_question_chars)[0]}
                 for item in read_questions(args.questions)]
    engine = load_engine(settings, announce=_announce, vectors=Vectors.NOW, archives=args.archive)
    print(report(evaluate(engine, questions)))
    if args.sweep:  # the threshold of whichever off-topic rule answers
        hybrid, ranker = engine.hybrid, engine.ranker
        print(f"\n{'on_topic' if hybrid else 'min_coverage'}  R@1(de)  R@1(en)  silent(all)")
        for threshold in [i / 20 for i in range(4, 17)]:
            swept = engine.replace(ranker=replace(ranker, on_topic_threshold=threshold)) \
                if hybrid and ranker is not None else engine.replace(min_coverage=threshold)
            t = evaluate(swept, questions)
            r = {k: v.summary() for k, v in t.items()}
            print(
                f"{threshold:>12.2f}  {r.get('de', {}).get('recall@1', 0):7.3f}  "
                f"{r.get('en', {}).get('recall@1', 0):7.3f}  {r['all']['abstention']:12.3f}"
            )
    return 0


def index_command(settings: Settings, args: argparse.Namespace) -> int:
    """Analyse the knowledge folder once and save the index next to it, then embed; one run
    at a time per index (a second waits, then finds the work done)."""
    target = settings.saved_index_dir
    try:
        with writer_lock(target, _announce) as waited:
            remove_leftovers(target)
            # before the analysis, which can take a minute: fail at once on a bad folder
            probe = target.with_name(f"{target.name}.probe-{os.getpid()}")
            probe.mkdir(exist_ok=True)
            probe.rmdir()
            if waited and is_current(settings.knowledge_dir, target):
                engine = open_index(settings)  # the other run saved just this
            else:
                engine = build_and_save(settings, progress=True)
            _embed(settings, engine, args)
    except OSError as exc:
        raise NewsbotError(
            f"cannot save the index in {target} ({exc.strerror or exc}): set NEWSBOT_INDEX_DIR "
            "to a folder this user can write"
        ) from None
    return 0


def _embed(settings: Settings, engine: Engine, args: argparse.Namespace) -> None:
    """Then the vectors: the lexical index is saved and serves already; Ctrl-C keeps what is
    done. The model on one OpenMP thread, a worker thread per core calling it."""
    threads = os.cpu_count() or 1
    stage = None if args.no_vectors else embed.semantic_stage(engine.index.passages, settings,
                                                              threads)
    if stage is not None:
        try:
            embed.embed_all(stage.semantic, stage.store, workers=threads)
        except OSError as exc:
            raise NewsbotError(f"cannot save the vectors in {embed.vectors_dir(settings)} "
                               f"({exc.strerror or exc}); the lexical index is saved") from None
