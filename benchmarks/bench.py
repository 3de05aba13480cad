"""The scale benchmark (`make bench`): build, save, load and question newsbot on a synthetic
German-like corpus.

The corpus is reproducible (seeded): 200,000 invented words of German syllables and endings
with Zipf frequencies (short words frequent), some capitalised, some closed or hyphenated
compounds, mixed with real stopwords: ~80 words in sentences of ~12 a passage. Each stage of
each size runs in a fresh process, so memory peaks (VmHWM) don't mix and the load is a cold
start (with a warm page cache). The reference is plain rank-bm25 on the same analysed terms.

    .venv/bin/python benchmarks/bench.py --sizes 1000,10000,100000,1000000   # README figures
    .venv/bin/python benchmarks/bench.py --sizes 1000,10000                  # a quick look
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import random
import resource
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from importlib.metadata import version
from pathlib import Path
from typing import Any

import bench_semantic
import numpy as np
import rank_bm25

from bot.indexing import build, storage
from bot.knowledge.articles import Article
from bot.search.lexical.index import Index
from bot.search.semantic.texts import save_text_map, text_map

SEED, VOCABULARY, PER_ARTICLE = 6, 200_000, 10
STOPS = ("der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als auch "
         "es an er hat aus bei nach wird am sind noch wie um über einen so zum war").split()
ONSETS = ("b bl br d f fl fr g gr h k kl kn kr l m n p pf pl pr r s sch schl schw sp st str t "
          "tr w z zw").split()
VOWELS = ["a", "e", "i", "o", "u", "e", "a", "ä", "ö", "ü", "au", "ei", "eu", "ie"]
CODAS = ["", "", "", "n", "r", "l", "s", "t", "ch", "ck", "ng", "nd", "rt", "st", "lt", "mm", "ß"]
ENDINGS = ["", "", "", "en", "er", "e", "ung", "ungen", "heit", "keit", "schaft", "lich",
           "isch", "ig", "te", "ten", "st", "t", "chen", "ern", "es"]
Result = dict[str, Any]


def make_words(seed: int) -> list[str]:
    """VOCABULARY distinct German-looking words, most frequent (mostly shortest) first."""
    rng = random.Random(seed)
    pick, seen, words = rng.choice, set(), []
    while len(words) < VOCABULARY:
        roll = rng.random()
        if roll < 0.12 and len(words) > 1000:  # closed compound of two simple words
            a, b = (words[rng.randrange(1000)].casefold() for _ in "ab")
            word = (a + pick(["", "", "s", "en"]) + b).capitalize()
        elif roll < 0.15 and len(words) > 1000:  # hyphenated compound
            word = "-".join(words[rng.randrange(len(words))].capitalize() for _ in "ab")
        else:
            word = "".join(pick(ONSETS) + pick(VOWELS) + pick(CODAS)
                           for _ in range(pick((1, 2, 2, 3)))) + pick(ENDINGS)
            if word.endswith(("ung", "ungen", "heit", "keit", "schaft", "chen")) or roll > 0.7:
                word = word.capitalize()
        if len(word) > 2 and word not in seen:
            seen.add(word)
            words.append(word)
    return sorted(words, key=lambda w: len(w) + rng.gauss(0, 4))


def make_corpus(n: int, count: int) -> tuple[list[Any], list[str]]:
    """n passages (PER_ARTICLE per article) and `count` questions of 2–6 words, each word
    frequent (drawn by corpus frequency) or rare (any word the corpus uses) at even odds."""
    rng = np.random.default_rng(SEED)
    plain = np.array(make_words(SEED) + STOPS, dtype=object)
    forms = [plain, plain + ".", np.array([w.capitalize() for w in plain], dtype=object)]
    cdf = np.cumsum(1.0 / (np.arange(VOCABULARY) + 2.7))
    stop_cdf = np.cumsum(1.0 / np.arange(1, len(STOPS) + 1))
    counts = np.zeros(len(plain), dtype=np.int64)
    paragraphs: list[str] = []
    for start in range(0, n, 10_000):
        lengths = rng.integers(60, 101, min(10_000, n - start))
        size, starts = int(lengths.sum()), np.cumsum(lengths) - lengths
        ids = np.searchsorted(cdf, rng.random(size) * cdf[-1])
        stop = rng.random(size) < 0.4
        ids[stop] = VOCABULARY + np.searchsorted(stop_cdf, rng.random(stop.sum()) * stop_cdf[-1])
        form = np.where(rng.random(size) < 1 / 12, 1, 0)  # a sentence ends, the next is capital
        form[1:][form[:-1] == 1] = 2
        form[starts], form[starts + lengths - 1] = 2, 1
        text = np.choose(form, [f[ids] for f in forms])
        chars = np.fromiter(map(len, text), np.int64, size) + 1
        used = np.cumsum(chars)
        keep = used - np.repeat(used[starts] - chars[starts], lengths) < 700  # one passage each
        counts += np.bincount(ids[keep], minlength=len(plain))
        ends = np.cumsum(np.add.reduceat(keep, starts))[:-1]
        paragraphs += [" ".join(p.tolist()).rstrip(".") + "." for p in np.split(text[keep], ends)]
    articles = [Article(f"a{i}.txt", paragraphs[i][:60], "2024-01-01", None,
                        tuple(paragraphs[i : i + PER_ARTICLE])) for i in range(0, n, PER_ARTICLE)]
    used_words, questions = np.flatnonzero(counts[:VOCABULARY]), []
    for _ in range(count):
        size = int(rng.integers(2, 7))
        frequent = np.searchsorted(cdf, rng.random(size) * cdf[-1])
        rare = used_words[rng.integers(0, len(used_words), size)]
        asked = " ".join(plain[np.where(rng.random(size) < 0.5, frequent, rare)].tolist())
        questions.append(f"{rng.choice(['Was', 'Wann', 'Wie', 'Warum', 'Wer'])} {asked}?")
    return articles, questions


def _mb(field: str) -> int:
    """A memory figure of this process (VmHWM: peak, VmRSS, RssAnon) in MB."""
    status = Path("/proc/self/status").read_text().splitlines()
    return next((int(s.split()[1]) // 1024 for s in status if s.startswith(field + ":")), 0)


def _build(n: int, count: int, work: str, texts: bool = False) -> Result:
    """Fresh process: the `newsbot index` pipeline (`build.build_engine`), then save (with
    the semantic stage's text map, as `newsbot index` saves it, when `texts`)."""
    articles, questions = make_corpus(n, count)
    spent: list[float] = []  # calls of Index.build / Index.from_*; the rest of a build is analysis
    for name in [m for m in vars(Index) if m == "build" or m.startswith("from_")]:
        setattr(Index, name, classmethod(_timed(getattr(Index, name).__func__, spent)))
    corpus_mb = _mb("VmRSS")
    build_s, engine = _clock(build.build_engine, articles)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    peak = _mb("VmHWM") + workers  # + analysis worker processes, if any (an upper bound)
    Path(work, "knowledge").mkdir()  # save() fingerprints a folder: one placeholder file
    Path(work, "knowledge", "synthetic.txt").write_text("newsbot bench\n")
    files = storage.fingerprint(Path(work, "knowledge"), Path(work, "index"))
    save_s, _ = _clock(storage.save, engine, Path(work, "index"), files)
    Path(work, "questions.json").write_text(json.dumps(questions, ensure_ascii=False))
    index_s = max(spent, default=0.0)
    text_map_s = 0.0
    if texts:  # timed apart: save_s stays comparable with the rows above it
        text_map_s, texts_made = _clock(text_map, engine.index.passages)
        save_text_map(texts_made, Path(work, "index"))
    return {"passages": len(engine.index), "vocabulary": len(engine.index.vocabulary),
            "postings": len(engine.index.indices), "build_s": build_s, "index_s": index_s,
            "analysis_share": 1 - index_s / build_s, "corpus_mb": corpus_mb,
            "build_peak_mb": peak, "save_s": save_s, "text_map_s": text_map_s,
            "load_avg": os.getloadavg()[0],
            "index_mb": sum(f.stat().st_size for f in Path(work, "index").iterdir()) >> 20}


def _timed(function: Any, spent: list[float]) -> Any:
    def timed(*args: Any, **kwargs: Any) -> Any:
        seconds, result = _clock(function, *args, **kwargs)
        spent.append(seconds)
        return result
    return timed


def _cpu(function: Any, *args: Any, **kwargs: Any) -> float:
    """CPU seconds of one call: what a busy shared machine does not inflate."""
    started = time.process_time()
    function(*args, **kwargs)
    return time.process_time() - started


def _clock(function: Any, *args: Any, **kwargs: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - started, result


def _serve(work: str) -> Result:
    """Fresh process: cold load of the saved index, then the questions."""
    load_s, engine = _clock(storage.load, Path(work, "index"))
    load_mb, questions = _mb("VmRSS"), json.loads(Path(work, "questions.json").read_text())
    queries = [(query.groups, query.factors) for query in map(engine.query, questions)]
    times = {}
    for name in ("first", "search"):  # the first pass also pays for page faults
        runs = [_clock(engine.index.search, g, k=5, factors=f) for g, f in queries]
        times[name], top = [t for t, _ in runs], [[h.id for h in hits] for _, hits in runs]
    times["ask"] = [_clock(engine.ask, q)[0] for q in questions]
    times["search_cpu"] = [_cpu(engine.index.search, g, k=5, factors=f) for g, f in queries]
    plain = [[g[0] for g in groups] if all(len(g) == 1 for g in groups) else None
             for groups, _ in queries]  # rank-bm25 knows no synonym groups: compare the rest
    return {**_throughput(engine.index.search, queries), "load_s": load_s, "serve_mb": load_mb,
            "serve_after_mb": _mb("VmRSS"),
            "serve_anon_mb": _mb("RssAnon"),  # without the mapped index files' pages
            **{k: v for name, t in times.items() for k, v in _ms(name, t).items()},
            "plain": plain, "top": top, "times": times["search"]}


def _throughput(search: Any, queries: list[tuple[Any, Any]], rounds: int = 3) -> Result:
    """Searches per second from one thread and from two (the bot's two engine workers): each
    search keeps its scratch to itself, so two search at once. CPU-bound, so two threads make
    up to twice as many only on two idle cores; the load average is recorded beside it."""
    rates = bench_semantic.per_second(lambda q: search(q[0], k=5, factors=q[1]),
                                      queries * rounds)
    return {**{f"search_qps_{threads}": rate for threads, rate in rates},
            "search_load_avg": os.getloadavg()[0]}


def _reference(work: str, queries: list[list[str] | None], top: list[list[int]]) -> Result:
    """Fresh process: plain rank-bm25 on the same analysed passages and questions."""
    engine = storage.load(Path(work, "index"))
    documents = [engine.analyzer.analyze(p.text) for p in engine.index.passages]
    params = json.loads(Path(work, "index", "manifest.json").read_text())["params"]
    variant = params.pop("variant")
    params.pop("delta" if variant == "okapi" else "epsilon")
    del engine
    kind = {"okapi": rank_bm25.BM25Okapi, "l": rank_bm25.BM25L, "plus": rank_bm25.BM25Plus}
    build_s, bm25 = _clock(kind[variant], documents, **params)
    times, exact, agree = [], 0, 0
    for terms, ids in [(q, ids) for q, ids in zip(queries, top, strict=True) if q is not None]:
        seconds, scores = _clock(bm25.get_scores, terms)
        times.append(seconds)
        matching = np.flatnonzero([any(t in d for t in terms) for d in bm25.doc_freqs])
        best = matching[np.lexsort((matching, -scores[matching]))][:5]
        exact += ids == best.tolist()  # ties aside: the same scores in the same order
        agree += len(ids) == len(best) and bool(np.allclose(scores[ids], scores[best], 1e-5))
    return {"ref_build_s": build_s, "ref_peak_mb": _mb("VmHWM"), **_ms("ref", times),
            "ref_questions": len(times), "top5_exact": exact / max(len(times), 1),
            "top5_agree": agree / max(len(times), 1)}


def _ms(name: str, seconds: list[float]) -> Result:
    p50, p99 = np.percentile(np.array(seconds or [np.nan]) * 1000, [50, 99])
    return {f"{name}_p50_ms": float(p50), f"{name}_p99_ms": float(p99)}


def _fresh(function: Any, *args: Any) -> Result:
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def machine() -> str:
    """CPU model, cores, RAM and the versions that matter."""
    info = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((ln.split(":", 1)[1].strip() for ln in info if ln.startswith("model name")), "?")
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{cpu}, {os.cpu_count()} cores, {ram:.0f} GB RAM, Python "
            f"{platform.python_version()}, numpy {np.__version__}, rank-bm25 "
            f"{version('rank-bm25')}, PyStemmer {version('PyStemmer')}")


def run_benchmark(sizes: list[int], questions: int, reference: bool,
                  semantic: list[int] = (), embedding: int = 100) -> int:  # type: ignore[assignment]
    """Run every size in fresh processes, print a Markdown table and save the results as JSON."""
    results, dense, about = [], [], machine()
    print(f"machine: {about}", flush=True)
    speeds = [_fresh(bench_semantic.throughput, embedding, *how) for how in ((2, 1), (1, 2))] \
        if semantic and embedding else []  # as newsbot index embedded before, and now
    for n in sorted({*sizes, *semantic}):
        work = tempfile.mkdtemp(prefix="newsbot-bench-")
        try:
            print(f"{n:,} passages: build and save …", file=sys.stderr, flush=True)
            row = {"size": n, **_fresh(_build, n, questions, work, n in semantic)}
            if n in semantic:
                print(f"{n:,} passages: semantic stage …", file=sys.stderr, flush=True)
                dense.append({"size": n, **_fresh(bench_semantic.make_vectors, work),
                              **_fresh(bench_semantic.serve, work)})
                print(json.dumps(dense[-1]), file=sys.stderr, flush=True)
            if n not in sizes:
                continue
            print(f"{n:,} passages: load and ask …", file=sys.stderr, flush=True)
            row.update(_fresh(_serve, work))
            plain, top, times = row.pop("plain"), row.pop("top"), row.pop("times")
            if reference:  # rank-bm25 takes ~1.5 s a question at 1M: fewer questions there
                print(f"{n:,} passages: rank-bm25 …", file=sys.stderr, flush=True)
                asked = min(questions, max(20, questions * 100_000 // n))
                row.update(_fresh(_reference, work, plain[:asked], top[:asked]))
                same = [t for t, q in zip(times[:asked], plain, strict=False) if q is not None]
                row["speedup"] = row["ref_p50_ms"] / _ms("same", same)["same_p50_ms"]
        finally:
            shutil.rmtree(work, ignore_errors=True)
        results.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    print(table(results))
    if semantic:
        print("\n" + bench_semantic.table(dense, speeds))
    out = Path("bench-results", time.strftime("bench-%Y%m%d-%H%M%S.json"))
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"machine": about, "results": results, "semantic": dense,
                               "embedding": speeds}, indent=1))
    print(f"\nresults saved to {out}")
    return 0


def table(results: list[Result]) -> str:
    """The results as a Markdown table."""
    head = ("passages", "build s (analysis)", "build peak MB", "save s", "cold load s",
            "serving MB: loaded / asked (anon.)", "search p50 / p99 ms", "ask p50 / p99 ms",
            "searches/s: 1 / 2 threads", "rank-bm25 p50 / p99 ms (questions)",
            "speed-up (p50, same questions)",
            "top-5 = rank-bm25 (same questions)")
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for r in results:
        ref = (f"{r['ref_p50_ms']:.0f} / {r['ref_p99_ms']:.0f} ({r['ref_questions']} q)",
               f"{r['speedup']:.0f}×", f"{r['top5_agree']:.0%}") if "speedup" in r else "–––"
        lines.append(
            f"| {r['size']:,} | {r['build_s']:.1f} ({r['analysis_share']:.0%}) "
            f"| {r['build_peak_mb']:,} | {r['save_s']:.2f} | {r['load_s']:.2f} "
            f"| {r['serve_mb']:,} / {r['serve_after_mb']:,} ({r['serve_anon_mb']:,}) "
            f"| {r['search_p50_ms']:.2f} / {r['search_p99_ms']:.2f} "
            f"| {r['ask_p50_ms']:.1f} / {r['ask_p99_ms']:.1f} "
            f"| {r['search_qps_1']:.0f} / {r['search_qps_2']:.0f} | {' | '.join(ref)} |")
    return "\n".join(lines)


def sizes(text: str) -> list[int]:
    """Passage counts from `a,b,c`."""
    try:
        found = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        found = []
    if not found or min(found) < 1:
        raise argparse.ArgumentTypeError(f"expected passage counts like 1000,10000, not {text!r}")
    return found


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=sizes, default="1000,10000,100000,1000000",
                        help="passage counts, a,b,c")
    parser.add_argument("--semantic", type=sizes, default="200000,1000000",
                        help="passage counts for the semantic stage (synthetic vectors)")
    parser.add_argument("--no-semantic", action="store_true", help="skip the semantic stage")
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--embedding", type=int, default=100, metavar="ARTICLES",
                        help="articles of the news archive to embed for the texts/s (0: skip)")
    parser.add_argument("--no-reference", action="store_true", help="skip plain rank-bm25")
    args = parser.parse_args(argv)
    return run_benchmark(args.sizes, args.questions, reference=not args.no_reference,
                         semantic=[] if args.no_semantic else args.semantic,
                         embedding=args.embedding)


if __name__ == "__main__":
    raise SystemExit(main())
