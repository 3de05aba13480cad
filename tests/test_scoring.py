"""bot.search.lexical.scoring + .index rank exactly like rank-bm25 (BM25Okapi, BM25L, BM25Plus)."""

from __future__ import annotations

import numpy as np
import pytest
import rank_bm25

from bot.knowledge.passages import Passage
from bot.search.lexical.index import Index
from bot.search.lexical.scoring import BM25Params, idf, tf_weight, unseen_idf

N_PASSAGES = 3000
N_QUERIES = 50
K = 10
# rank-bm25's constructor defaults, per class.
REFERENCE = {
    "okapi": (rank_bm25.BM25Okapi, {"k1": 1.5, "b": 0.75, "epsilon": 0.25}),
    "l": (rank_bm25.BM25L, {"k1": 1.5, "b": 0.75, "delta": 0.5}),
    "plus": (rank_bm25.BM25Plus, {"k1": 1.5, "b": 0.75, "delta": 1.0}),
}


def _vocabulary(rng: np.random.Generator, size: int) -> list[str]:
    onsets = ["b", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "w", "z", "sch"]
    vowels = ["a", "e", "i", "o", "u", "ä", "ö", "ü", "ei", "au"]
    codas = ["", "n", "r", "s", "t", "ng", "ch", "ck"]
    vocab: dict[str, None] = {}
    while len(vocab) < size:
        syllables = rng.integers(1, 4)
        word = "".join(
            rng.choice(onsets) + rng.choice(vowels) + rng.choice(codas) for _ in range(syllables)
        )
        vocab.setdefault(word)
    return list(vocab)


@pytest.fixture(scope="module")
def corpus():
    """A reproducible German-like corpus with Zipf-ish term frequencies, and queries."""
    rng = np.random.default_rng(20200803)
    vocab = _vocabulary(rng, 4000)
    weights = 1.0 / np.arange(1, len(vocab) + 1) ** 1.07
    weights /= weights.sum()
    lengths = rng.integers(3, 80, size=N_PASSAGES)
    tokens = [vocab[i] for i in rng.choice(len(vocab), size=int(lengths.sum()), p=weights)]
    ends = np.cumsum(lengths)
    documents = [tokens[end - n : end] for n, end in zip(lengths, ends, strict=True)]
    queries = []
    for _ in range(N_QUERIES):
        n = int(rng.integers(1, 6))
        query = [vocab[i] for i in rng.choice(len(vocab), size=n, p=weights)]
        if rng.random() < 0.3:  # a rarer word, sometimes repeated, sometimes unknown
            query.append(vocab[int(rng.integers(100, len(vocab)))])
        if rng.random() < 0.2:
            query.append(query[0])
        if rng.random() < 0.2:
            query.append("qqqunbekannt")
        queries.append(query)
    passages = [
        Passage(f"a{i // 10}.txt", "T", None, None, i % 10, " ".join(d))
        for i, d in enumerate(documents)
    ]
    return documents, queries, passages


def _baseline(reference: rank_bm25.BM25, variant: str, query: list[str]) -> float:
    """What rank-bm25 adds for query words a passage lacks (the same for every passage)."""
    if variant == "plus":
        return sum(reference.idf.get(q, 0.0) * reference.delta for q in query)
    return 0.0


@pytest.mark.parametrize(
    "variant",
    [
        "okapi",
        pytest.param(
            "l",
        ),
        "plus",
    ],
)
def test_ranks_like_rank_bm25(corpus, variant):
    documents, queries, passages = corpus
    cls, kwargs = REFERENCE[variant]
    reference = cls(documents, **kwargs)
    params = BM25Params(variant=variant, epsilon=0.25, **{k: v for k, v in kwargs.items()
                                                         if k != "epsilon"})
    index = Index.build(passages, documents, params)
    sets = [set(d) for d in documents]
    compared = 0
    for query in queries:
        scores = reference.get_scores(query)
        matching = np.array([bool(s.intersection(query)) for s in sets])
        order = np.argsort(-scores, kind="stable")
        expected = [int(i) for i in order[:K] if matching[i]]
        ranked = scores[order]
        hits = index.search([(q,) for q in query], k=K)
        got = [h.id for h in hits]
        assert len(got) == len(expected), query
        # The same sequence of scores: the same ranking, up to ties.
        np.testing.assert_allclose(scores[got], scores[expected], rtol=1e-5, atol=1e-5)
        for j in range(len(got)):
            neighbours = [ranked[i] for i in (j - 1, j + 1) if 0 <= i < len(ranked)]
            if all(abs(ranked[j] - s) > 1e-5 for s in neighbours):
                assert got[j] == expected[j], (query, j)
        # And the index's own score is rank-bm25's minus the constant.
        baseline = _baseline(reference, variant, query)
        np.testing.assert_allclose(
            [h.score for h in hits], scores[got] - baseline, rtol=1e-4, atol=1e-4
        )
        compared += len(got)
    assert compared > N_QUERIES * K // 2  # the test really compared rankings


def test_corpus_exercises_the_okapi_idf_floor(corpus):
    """Some terms occur in more than half the passages, so the floor matters."""
    documents, _, _ = corpus
    reference = rank_bm25.BM25Okapi(documents)
    assert any(v == pytest.approx(0.25 * reference.average_idf) for v in reference.idf.values())


# --- the formulas directly ---------------------------------------------------------------


def test_default_params_are_bm25_plus():
    params = BM25Params()
    assert (params.variant, params.k1, params.b, params.delta) == ("plus", 1.2, 0.75, 1.0)


def test_unknown_variant_is_rejected():
    with pytest.raises(ValueError, match="variant"):
        BM25Params(variant="bm42")


def test_okapi_idf_floor_uses_mean_of_raw_idfs():
    params = BM25Params(variant="okapi", epsilon=0.25)
    raw = np.log(10 - np.array([1, 9]) + 0.5) - np.log(np.array([1, 9]) + 0.5)
    values = idf(np.array([1, 9]), 10, params)
    assert values[0] == pytest.approx(raw[0])
    assert values[1] == pytest.approx(0.25 * raw.mean())


def test_plus_idf():
    assert idf(np.array([2]), 9, BM25Params("plus"))[0] == pytest.approx(np.log(10 / 2))


def test_l_idf():
    assert idf(np.array([2]), 9, BM25Params("l"))[0] == pytest.approx(np.log(10) - np.log(2.5))


@pytest.mark.parametrize("variant", ["okapi", "l", "plus"])
def test_tf_weight_is_zero_without_the_term(variant):
    weight = tf_weight(np.array([0]), np.array([10]), 10.0, BM25Params(variant))
    assert weight[0] == pytest.approx(0.0)


@pytest.mark.parametrize("variant", ["okapi", "l", "plus"])
def test_tf_weight_grows_with_tf_and_shrinks_with_length(variant):
    params = BM25Params(variant)
    by_tf = tf_weight(np.array([1, 2, 5]), np.array([10, 10, 10]), 10.0, params)
    by_length = tf_weight(np.array([1, 1]), np.array([5, 50]), 10.0, params)
    assert by_tf[0] < by_tf[1] < by_tf[2]
    assert by_length[0] > by_length[1]


def test_unseen_idf_is_the_idf_of_a_single_occurrence():
    params = BM25Params("plus")
    assert unseen_idf(100, params) == pytest.approx(np.log(101))
    assert unseen_idf(0, params) == pytest.approx(np.log(3))  # never log(1) = 0


def test_bm25l_small_example_ranks_like_rank_bm25():
    documents = [["f"], ["y", "h", "g", "x", "y"], ["g"], ["x", "y"]]
    passages = [Passage("a.txt", "T", None, None, i, " ".join(d)) for i, d in enumerate(documents)]
    reference = rank_bm25.BM25L(documents, k1=1.5, b=0.75, delta=0.5).get_scores(["x", "y"])
    index = Index.build(passages, documents, BM25Params("l", k1=1.5, b=0.75, delta=0.5))
    assert [h.id for h in index.search([("x",), ("y",)], k=2)] == [1, 3]
    assert reference[1] > reference[3]
