"""bot.search.lexical.index: Index.build / search with structured queries, and Hit.coverage."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from bot.knowledge.passages import Passage
from bot.search.lexical import topk
from bot.search.lexical.index import Index
from bot.search.lexical.scoring import BM25Params

SYNONYMS = tuple(f"syn{i}" for i in range(10))


def _index(documents: list[list[str]], params: BM25Params | None = None) -> Index:
    passages = [
        Passage("a.txt", "Titel", None, None, i, " ".join(d)) for i, d in enumerate(documents)
    ]
    return Index.build(passages, documents, params)


@pytest.fixture
def small():
    return _index(
        [
            ["microsoft", "tiktok", "kauf", "us", "geschaft"],
            ["tiktok", "nutz", "million", "weltweit"],
            ["bahn", "streik", "gdl", "lokfuhr"],
            ["werd", "bremen", "trainer", "hartwig"],
            ["hitz", "rekord", "grad", "dwd"],
        ]
    )


def test_search_finds_the_passage(small):
    hits = small.search([("microsoft",), ("kauf",)])
    assert hits[0].id == 0
    assert hits[0].passage.position == 0


def test_search_returns_empty_for_unknown_terms(small):
    assert small.search([("wetter",), ("morgen",)]) == []


def test_search_with_no_groups_returns_empty(small):
    assert small.search([]) == []


def test_search_respects_k(small):
    assert len(small.search([("tiktok",)], k=1)) == 1
    assert len(small.search([("tiktok",)], k=5)) == 2


def test_hits_are_best_first(small):
    hits = small.search([("tiktok",), ("nutz",), ("million",)], k=5)
    assert [h.id for h in hits] == [1, 0]
    assert hits[0].score > hits[1].score > 0


def test_search_leaves_no_state_behind(small):
    first = small.search([("tiktok",), ("microsoft",)], k=5)
    small.search([("bahn",), ("tiktok",)], k=5)
    again = small.search([("tiktok",), ("microsoft",)], k=5)
    assert [(h.id, h.score, h.coverage) for h in first] == [
        (h.id, h.score, h.coverage) for h in again
    ]


def test_knows(small):
    assert small.knows("tiktok")
    assert not small.knows("wetter")


def test_len(small):
    assert len(small) == 5


def test_coverage_is_one_when_all_groups_match(small):
    hits = small.search([("microsoft",), ("kauf",), ("tiktok",)])
    assert hits[0].coverage == pytest.approx(1.0)


def test_coverage_is_partial_when_some_groups_match(small):
    hits = small.search([("microsoft",), ("streik",)])
    assert all(0.0 < h.coverage < 1.0 for h in hits)


def test_coverage_counts_unknown_words_against_the_question(small):
    known = small.search([("microsoft",)])[0].coverage
    with_unknown = small.search([("microsoft",), ("xyzzy",)])[0].coverage
    assert known == pytest.approx(1.0)
    assert with_unknown < 0.6


def test_coverage_of_a_synonym_group_is_one_group(small):
    hits = small.search([("microsoft", "apple", "google")])
    assert hits[0].coverage == pytest.approx(1.0)


def _synonym_corpus() -> Index:
    # precise: "praezise" once; synonyms: all ten synonyms once each; same lengths.
    fillers = [f"fill{i}" for i in range(9)]
    return _index(
        [
            list(SYNONYMS),
            ["praezise", *fillers],
            ["andere", *fillers],
            ["noch", "etwas", "ganz", "anderes", "hier", "a", "b", "c", "d", "e"],
        ]
    )


def test_group_score_is_the_max_of_its_members():
    index = _synonym_corpus()
    group = index.search([SYNONYMS], k=1)[0]
    single = index.search([(SYNONYMS[0],)], k=1)[0]
    assert group.id == single.id == 0
    assert group.score == pytest.approx(single.score)


def test_single_term_groups_add_up():
    index = _synonym_corpus()
    summed = index.search([(s,) for s in SYNONYMS], k=1)[0]
    single = index.search([(SYNONYMS[0],)], k=1)[0]
    assert summed.score == pytest.approx(10 * single.score, rel=1e-5)


def test_ten_synonyms_do_not_outweigh_one_precise_term():
    index = _synonym_corpus()
    hits = index.search([("praezise",), SYNONYMS], k=2)
    by_id = {h.id: h.score for h in hits}
    assert by_id[1] >= by_id[0] - 1e-6


def test_group_with_unknown_members_uses_the_known_one(small):
    assert small.search([("xyzzy", "bahn")])[0].id == 2


def test_repeated_group_counts_twice(small):
    once = small.search([("bahn",)])[0].score
    twice = small.search([("bahn",), ("bahn",)])[0].score
    assert twice == pytest.approx(2 * once)


def test_ties_are_broken_by_passage_order():
    index = _index([["x", "a"], ["x", "b"], ["x", "c"]])
    assert [h.id for h in index.search([("x",)], k=3)] == [0, 1, 2]


@pytest.mark.parametrize("variant", ["okapi", "l", "plus"])
def test_every_variant_finds_the_rare_term(variant):
    index = _index([["a", "b"], ["a", "c"], ["a", "rar"]], BM25Params(variant))
    assert index.search([("rar",)])[0].id == 2


def test_single_passage_index_answers():
    index = _index([["tiktok", "microsoft"]])
    hits = index.search([("tiktok",)])
    assert [h.id for h in hits] == [0]
    assert hits[0].coverage == pytest.approx(1.0)


def test_index_arrays_are_csr():
    index = _index([["a", "b", "a"], ["b"]])
    assert index.indptr[-1] == len(index.indices) == len(index.weights)
    assert np.all(np.diff(index.indptr) >= 0)
    assert index.weights.dtype == np.float32


# --- weighted members (thesaurus synonyms) -----------------------------------------------


def test_member_factor_scales_the_weight():
    index = _index([["kauf", "a"], ["erwerb", "b"], ["c", "d"]])
    full = index.search([("erwerb",)], k=1)[0].score
    half = index.search([("kauf", "erwerb")], k=3, factors=[(1.0, 0.5)])
    by_id = {h.id: h.score for h in half}
    assert by_id[1] == pytest.approx(0.5 * full, rel=1e-5)
    assert by_id[0] == pytest.approx(full, rel=1e-5)


def test_synonym_earns_less_coverage_than_the_word_itself():
    index = _index([["kauf", "a"], ["erwerb", "b"], ["c", "d"]])
    hits = {h.id: h for h in index.search([("kauf", "erwerb")], k=3, factors=[(1.0, 0.5)])}
    assert hits[0].coverage == pytest.approx(1.0)
    assert 0.0 < hits[1].coverage <= 0.5 + 1e-6


def test_zero_factor_member_is_ignored():
    index = _index([["kauf", "a"], ["erwerb", "b"], ["c", "d"]])
    hits = index.search([("kauf", "erwerb")], k=3, factors=[(1.0, 0.0)])
    assert [h.id for h in hits] == [0]


def _random_query(seed: int) -> tuple[Index, list[tuple[str, ...]], list[tuple[float, ...]]]:
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(30)]
    # Zipf-like: a few words in most passages, most in few (what lazy scoring is for)
    p = 1.0 / np.arange(1, len(words) + 1)
    documents = [list(rng.choice(words, size=int(rng.integers(1, 12)), p=p / p.sum()))
                 for _ in range(400)]
    groups = [("w1", "w2", "w3"), ("w4",), ("w5", "w6", "nowhere"), ("w0",), ("w25", "w9")]
    factors = [(1.0, 1.0, 0.5), (1.0,), (1.0, 0.5, 1.0), (1.0,), (1.0, 0.5)]
    return _index(documents), groups[: 2 + seed % 4], factors[: 2 + seed % 4]


def _same(a: list, b: list) -> None:
    assert [h.id for h in a] == [h.id for h in b]
    assert [h.score for h in a] == pytest.approx([h.score for h in b])
    assert [h.coverage for h in a] == pytest.approx([h.coverage for h in b])
    assert [h.matched for h in a] == [h.matched for h in b]


@pytest.mark.parametrize("seed", range(5))
def test_dense_and_sorted_group_merges_agree(monkeypatch, seed):
    """A synonym group over many passages is merged densely; over few, by sorting: the same
    scores, order and coverage either way."""
    index, groups, factors = _random_query(seed)
    results = []
    for dense in (10**9, 0):  # every multi-term group sorted; every one dense
        monkeypatch.setattr(topk, "DENSE", dense)
        results.append(index.search(groups, k=20, factors=factors))
    _same(*results)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("k", [1, 5, 30])
@pytest.mark.parametrize("lookup", [0, 8])  # always looked up; scanned when that is cheaper
def test_lazy_scoring_finds_the_same_top_k(monkeypatch, seed, k, lookup):
    """Frequent groups scored lazily (MaxScore) give the top k of scoring all of them."""
    monkeypatch.setattr(topk, "LOOKUP", lookup)
    index, groups, factors = _random_query(seed)
    include = [3, 77, 399]
    results = []
    for lazy in (0, 10**9):  # no group lazy; every group may be
        monkeypatch.setattr(topk, "LAZY", lazy)
        results.append(index.search(groups, k=k, factors=factors, include=include))
    _same(*results)


@pytest.mark.parametrize("seed", range(4))
def test_score_gives_what_search_gives_the_included(seed):
    index, groups, factors = _random_query(seed)
    ids = [5, 77, 399, 5, 0]
    searched = index.search(groups, k=0, factors=factors, include=ids)
    _same(index.score(groups, ids, factors), searched)


def test_two_threads_search_at_once_as_one_does():
    """No scratch is shared between calls: threads searching at once get what one gets."""
    queries = [_random_query(seed) for seed in range(6)]
    index = queries[0][0]
    asked = [(g, f) for _, g, f in queries] * 20
    alone = [index.search(g, k=10, factors=f) for g, f in asked]
    with ThreadPoolExecutor(2) as pool:
        together = list(pool.map(lambda q: index.search(q[0], k=10, factors=q[1]), asked))
    for a, b in zip(alone, together, strict=True):
        assert [(h.id, h.score, h.coverage) for h in a] == [(h.id, h.score, h.coverage) for h in b]
