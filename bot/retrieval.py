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
from dataclasses import dataclass

import numpy as np

from bot import scoring
from bot.knowledge import Passage
from bot.scoring import BM25Params

Group = tuple[str, ...]


@dataclass(frozen=True)
class Hit:
    """A ranked passage with its BM25 score and the share of the question it covers."""

    passage: Passage
    score: float
    coverage: float  # IDF-weighted share of the question's groups found in the passage
    id: int  # the passage's number in the index
    matched: int = 0  # how many of the question's groups the passage contains


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
        self._scores = np.zeros(len(passages), dtype=np.float32)
        self._matched = np.zeros(len(passages), dtype=np.float32)
        self._count = np.zeros(len(passages), dtype=np.int16)

    @classmethod
    def build(
        cls,
        passages: Sequence[Passage],
        documents: Sequence[Sequence[str]],
        params: BM25Params | None = None,
    ) -> Index:
        """Index passages given their analysed terms (`documents[i]` belongs to `passages[i]`)."""
        params = params or BM25Params()
        n = len(passages)
        vocabulary: dict[str, int] = {}
        lengths = np.fromiter((len(d) for d in documents), dtype=np.int64, count=n)
        term_ids = np.fromiter(
            (vocabulary.setdefault(t, len(vocabulary)) for d in documents for t in d),
            dtype=np.int64,
            count=int(lengths.sum()),
        )
        doc_ids = np.repeat(np.arange(n, dtype=np.int64), lengths)
        keys, tf = np.unique(term_ids * max(n, 1) + doc_ids, return_counts=True)
        terms, docs = np.divmod(keys, max(n, 1))
        df = np.bincount(terms, minlength=len(vocabulary))
        indptr = np.zeros(len(vocabulary) + 1, dtype=np.int64)
        np.cumsum(df, out=indptr[1:])
        idf = scoring.idf(df, n, params)
        avgdl = float(lengths.mean()) if n else 0.0
        weights = idf[terms] * scoring.tf_weight(tf, lengths[docs], avgdl, params)
        return cls(
            passages, vocabulary, indptr, docs.astype(np.int32), weights.astype(np.float32),
            idf, params,
        )

    def __len__(self) -> int:
        return len(self.passages)

    def knows(self, term: str) -> bool:
        """Whether any passage contains the term."""
        return term in self.vocabulary

    def search(
        self,
        groups: Sequence[Group],
        k: int = 3,
        factors: Sequence[Sequence[float]] | None = None,
    ) -> list[Hit]:
        """The k best passages for a structured query, best first; [] if nothing matches.

        `factors[g][m]` scales the weight of member m of group g (1 if not given): synonyms
        can count less than the question's own word. A group's share of the coverage is the
        IDF of its full-weight members (as if unseen when none is indexed), times the factor
        of the member that matched (a synonym earns at most its own IDF).
        """
        scores, matched = self._scores, self._matched
        total_idf, touched = 0.0, []
        for g, group in enumerate(groups):
            scale = factors[g] if factors is not None else (1.0,) * len(group)
            members = {}
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
            rows, weights = self._rows(ids)
            if len(ids) == 1:
                scores[rows] += weights * members[ids[0]]
                matched[rows] += credits[0]
            else:  # the best weight of the group's terms, per passage
                sizes = [int(self.indptr[i + 1] - self.indptr[i]) for i in ids]
                member_factors = np.repeat(np.array([members[i] for i in ids]), sizes)
                member_credits = np.repeat(np.array(credits), sizes)
                order = np.lexsort((-(weights * member_factors), rows))
                rows = rows[order]
                weights = (weights * member_factors)[order]
                first = np.r_[True, rows[1:] != rows[:-1]]
                scores[rows[first]] += weights[first]
                matched[rows[first]] += member_credits[order][first]
                rows = rows[first]
            self._count[rows] += 1
            touched.append(rows)
        if not touched:
            return []
        candidates = np.unique(np.concatenate(touched)) if len(touched) > 1 else touched[0]
        hits = self._top(candidates, k, total_idf)
        scores[candidates] = 0.0
        matched[candidates] = 0.0
        self._count[candidates] = 0
        return hits

    def _group_idf(self, ids: list[int]) -> float:
        """A synonym group's IDF, from the passages holding any of its terms (Pirkola's
        synonym operator; the sum of the terms' document frequencies, at most N)."""
        if not ids:
            return self.unseen_idf
        if len(ids) == 1:
            return float(self.idf[ids[0]])
        df = min(sum(int(self.indptr[i + 1] - self.indptr[i]) for i in ids), len(self))
        return float(scoring.idf(np.array([df]), len(self), self.params)[0])

    def _rows(self, ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
        if len(ids) == 1:
            start, end = self.indptr[ids[0]], self.indptr[ids[0] + 1]
            return self.indices[start:end], self.weights[start:end]
        slices = [slice(self.indptr[i], self.indptr[i + 1]) for i in ids]
        return (
            np.concatenate([self.indices[s] for s in slices]),
            np.concatenate([self.weights[s] for s in slices]),
        )

    def _top(self, candidates: np.ndarray, k: int, total_idf: float) -> list[Hit]:
        values = self._scores[candidates]
        if len(candidates) > k:
            part = np.argpartition(-values, k - 1)[:k]
            candidates, values = candidates[part], values[part]
        order = np.lexsort((candidates, -values))  # best first; ties by passage order
        return [
            Hit(
                self.passages[int(i)], float(values[j]),
                float(self._matched[i]) / total_idf if total_idf > 0 else 0.0, int(i),
                int(self._count[i]),
            )
            for j, i in ((j, candidates[j]) for j in order)
            if values[j] > 0
        ]
