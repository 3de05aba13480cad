"""Retrieval: a BM25 index over passages, searched with structured queries.

A query is a list of groups of terms. A German question gives one group per term; an English
question gives one group per English word, holding its German translations as synonyms, so a
word with ten translations weighs no more than a word with one (Pirkola 1998, "The effects of
query structure and dictionary setups in dictionary-based cross-language retrieval"): a
passage's score for a group is the best weight of any of its terms.

Each (term, passage) weight is precomputed (see `scoring`); a question sums a few slices of a
term-major sparse matrix, so it costs milliseconds even over a million passages.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bot.knowledge.passages import Passage
from bot.search.hits import Group, Hit
from bot.search.lexical import scoring, topk
from bot.search.lexical.scoring import BM25Params

__all__ = ["Group", "Hit", "Index"]
STEP = 65_536  # passages per step of an index build (and 64 steps of postings)


class Index:
    """Passages with their precomputed BM25 weights in term-major (CSR) arrays."""

    def __init__(
        self,
        passages: Sequence[Passage],
        vocabulary: dict[str, int],
        indptr: np.ndarray,
        indices: np.ndarray,
        weights: np.ndarray,
        idf: np.ndarray,
        params: BM25Params,
    ) -> None:
        self.passages = passages
        self.vocabulary = vocabulary
        self.indptr, self.indices, self.weights, self.idf = indptr, indices, weights, idf
        self.params = params
        self.unseen_idf = scoring.unseen_idf(len(passages), params)
        self._max: dict[int, float] = {}  # see max_weight

    @classmethod
    def build(
        cls,
        passages: Sequence[Passage],
        documents: Sequence[Sequence[str]],
        params: BM25Params | None = None,
    ) -> Index:
        """Index passages given their analysed terms (`documents[i]` belongs to `passages[i]`)."""
        params = params or BM25Params()
        vocabulary: dict[str, int] = {}
        lengths = np.fromiter((len(d) for d in documents), dtype=np.int64, count=len(passages))
        term_ids = np.fromiter(
            (vocabulary.setdefault(t, len(vocabulary)) for d in documents for t in d),
            dtype=np.int32,
            count=int(lengths.sum()),
        )
        return cls._from_terms(passages, vocabulary, [term_ids], lengths, params)

    @classmethod
    def from_words(
        cls,
        passages: Sequence[Passage],
        word_terms: Sequence[Sequence[str]],
        words: np.ndarray,
        lengths: np.ndarray,
        params: BM25Params | None = None,
    ) -> Index:
        """Index passages given as word ids: passage i is the next `lengths[i]` of `words`,
        and word w stands for the terms `word_terms[w]` (what `Analyzer.word_terms` gives)."""
        vocabulary: dict[str, int] = {}
        sizes = np.fromiter(map(len, word_terms), np.int64, len(word_terms))
        starts = np.zeros(len(word_terms) + 1, dtype=np.int64)
        np.cumsum(sizes, out=starts[1:])
        flat = np.fromiter((vocabulary.setdefault(t, len(vocabulary)) for ts in word_terms
                            for t in ts), np.int32, int(starts[-1]))
        bounds = np.zeros(len(passages) + 1, dtype=np.int64)
        np.cumsum(lengths, out=bounds[1:])
        terms, dl = [], np.zeros(len(passages), dtype=np.int64)  # dl: terms per passage
        for a in range(0, len(passages), STEP):  # in steps, to bound the temporary arrays
            b = min(a + STEP, len(passages))
            chunk = words[bounds[a] : bounds[b]]
            per_word = sizes[chunk]
            ends = np.zeros(len(chunk) + 1, dtype=np.int64)
            np.cumsum(per_word, out=ends[1:])
            dl[a:b] = np.diff(ends[bounds[a : b + 1] - bounds[a]])
            terms.append(flat[np.repeat(starts[chunk] - ends[:-1], per_word)
                              + np.arange(ends[-1])])
        return cls._from_terms(passages, vocabulary, terms, dl, params or BM25Params())

    @classmethod
    def _from_terms(
        cls, passages: Sequence[Passage], vocabulary: dict[str, int], terms: list[np.ndarray],
        lengths: np.ndarray, params: BM25Params,
    ) -> Index:
        """The index of passages whose term ids are `terms` (chunks, concatenated in order)."""
        n = max(len(passages), 1)
        keys = np.concatenate(terms, dtype=np.int64) if terms else np.zeros(0, np.int64)
        terms.clear()
        keys *= n
        keys += np.repeat(np.arange(len(passages), dtype=np.int64), lengths)
        keys.sort()  # by term, then passage; in place (np.unique would copy)
        first = np.ones(len(keys), dtype=bool)
        np.not_equal(keys[1:], keys[:-1], out=first[1:])
        at = np.flatnonzero(first)
        del first
        tf = np.diff(at, append=len(keys)).astype(np.int32)
        keys = keys[at]
        del at
        docs = (keys % n).astype(np.int32)
        term_of = (keys // n).astype(np.int32)
        del keys
        df = np.bincount(term_of, minlength=len(vocabulary))
        indptr = np.zeros(len(vocabulary) + 1, dtype=np.int64)
        np.cumsum(df, out=indptr[1:])
        idf = scoring.idf(df, len(passages), params)
        avgdl = float(lengths.mean()) if len(passages) else 0.0
        weights = np.empty(len(docs), dtype=np.float32)
        for a in range(0, len(docs), STEP * 64):  # float64 temporaries of bounded size
            s = slice(a, a + STEP * 64)
            weights[s] = idf[term_of[s]] * scoring.tf_weight(
                tf[s], lengths[docs[s]], avgdl, params)
        return cls(passages, vocabulary, indptr, docs, weights, idf, params)

    def __len__(self) -> int:
        return len(self.passages)

    def knows(self, term: str) -> bool:
        """Whether any passage contains the term."""
        return term in self.vocabulary

    def max_weight(self, term: int) -> float:
        """The term's highest weight in any passage (read once, then remembered: asked only
        for terms in 1/64 of the passages or more, so a few thousand at most)."""
        if term not in self._max:
            start, end = self.indptr[term], self.indptr[term + 1]
            self._max[term] = float(self.weights[start:end].max()) if end > start else 0.0
        return self._max[term]

    def search(
        self,
        groups: Sequence[Group],
        k: int = 3,
        factors: Sequence[Sequence[float]] | None = None,
        include: Sequence[int] = (),
    ) -> list[Hit]:
        """The k best passages for a structured query, best first; [] if nothing matches.
        Passages in `include` (found by another stage) follow them, scored the same way.
        Threads may search at once (`bot/search/lexical/topk.py` keeps its scratch per call).

        `factors[g][m]` scales the weight of member m of group g (1 if not given): synonyms
        can count less than the question's own word. A group's share of the coverage is the
        IDF of its full-weight members (as if unseen when none is indexed), times the factor
        of the member that matched (a synonym earns at most its own IDF).
        """
        plans, total_idf = self._plans(groups, factors)
        return topk.search(self, plans, k, total_idf, include)

    def score(self, groups: Sequence[Group], ids: Sequence[int],
              factors: Sequence[Sequence[float]] | None = None) -> list[Hit]:
        """These passages as `search` would score them (for the passages another stage found
        while this one searched): looked up, not searched, so it costs microseconds."""
        plans, total_idf = self._plans(groups, factors)
        return topk.score(self, plans, total_idf, ids)

    def _plans(self, groups: Sequence[Group], factors: Sequence[Sequence[float]] | None
               ) -> tuple[list[topk.Plan], float]:
        """Each group's indexed terms with their factors and credits, and the question's IDF."""
        total_idf, plans = 0.0, []
        for g, group in enumerate(groups):
            scale = factors[g] if factors is not None else (1.0,) * len(group)
            members: dict[int, float] = {}
            for term, factor in zip(group, scale, strict=True):
                if term in self.vocabulary and factor > 0:
                    i = self.vocabulary[term]
                    members[i] = max(members.get(i, 0.0), factor)
            own = [self.vocabulary[t] for t, f in zip(group, scale, strict=True)
                   if f >= 1.0 and t in self.vocabulary]
            group_idf = max(self._group_idf(own), 0.0)
            total_idf += group_idf
            if not members:
                continue
            ids = sorted(members)
            # coverage credit: the group's IDF for a full member; a synonym earns its factor
            # times its own IDF, at most the group's
            credits = [
                group_idf if members[i] >= 1.0
                else members[i] * min(max(float(self.idf[i]), 0.0), group_idf)
                for i in ids
            ]
            plans.append(topk.Plan(ids, [members[i] for i in ids], credits,
                                   sum(int(self.indptr[i + 1] - self.indptr[i]) for i in ids)))
        return plans, total_idf

    def _group_idf(self, ids: list[int]) -> float:
        """A synonym group's IDF, from the passages holding any of its terms (Pirkola's
        synonym operator; the sum of the terms' document frequencies, at most N)."""
        if not ids:
            return self.unseen_idf
        if len(ids) == 1:
            return float(self.idf[ids[0]])
        df = min(sum(int(self.indptr[i + 1] - self.indptr[i]) for i in ids), len(self))
        return float(scoring.idf(np.array([df]), len(self), self.params)[0])
