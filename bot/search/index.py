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
from bot.search import scoring
from bot.search.hits import Group, Hit
from bot.search.scoring import BM25Params

__all__ = ["Group", "Hit", "Index"]
STEP = 65_536  # passages per step of an index build (and 64 steps of postings)
DENSE = 16  # a group whose postings reach 1/16 of the passages is merged densely, not sorted


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
        self._best: np.ndarray | None = None  # see _dense_best
        self._credit: np.ndarray | None = None

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

    def search(
        self,
        groups: Sequence[Group],
        k: int = 3,
        factors: Sequence[Sequence[float]] | None = None,
        include: Sequence[int] = (),
    ) -> list[Hit]:
        """The k best passages for a structured query, best first; [] if nothing matches.
        Passages in `include` (found by another stage) follow them, scored the same way.

        `factors[g][m]` scales the weight of member m of group g (1 if not given): synonyms
        can count less than the question's own word. A group's share of the coverage is the
        IDF of its full-weight members (as if unseen when none is indexed), times the factor
        of the member that matched (a synonym earns at most its own IDF).
        """
        scores = self._scores
        total_idf = 0.0
        # per group: its passages (sorted) and the credit they earn
        found: list[tuple[np.ndarray, float | np.ndarray]] = []
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
            sizes = [int(self.indptr[i + 1] - self.indptr[i]) for i in ids]
            if len(ids) > 1 and sum(sizes) * DENSE >= len(scores):  # many: dense, no sort
                found.append(self._dense_best(ids, members, credits))
                continue
            rows, weights = self._rows(ids)
            if len(ids) == 1:
                scores[rows] += weights * members[ids[0]]
                found.append((rows, credits[0]))
            else:  # the best weight of the group's terms, per passage
                member_factors = np.repeat(np.array([members[i] for i in ids]), sizes)
                member_credits = np.repeat(np.array(credits), sizes)
                order = np.lexsort((-(weights * member_factors), rows))
                rows = rows[order]
                weights = (weights * member_factors)[order]
                first = np.r_[True, rows[1:] != rows[:-1]]
                scores[rows[first]] += weights[first]
                found.append((rows[first], member_credits[order][first]))
        if not found:
            return [Hit(self.passages[i], 0.0, 0.0, i) for i in dict.fromkeys(include)]
        dense = len(found) > 1 and sum(len(rows) for rows, _ in found) * 16 >= len(scores)
        if len(found) == 1:
            candidates = found[0][0]
        elif not dense:  # few passages: their distinct ones, by sorting (np.unique hashes: slow)
            candidates = np.sort(np.concatenate([rows for rows, _ in found]))
            candidates = candidates[np.r_[True, candidates[1:] != candidates[:-1]]]
        else:  # many: only those that can make the top k
            candidates = self._contenders(found, k)
        hits = self._top(candidates, k, total_idf, found, include)
        if dense:
            scores.fill(0.0)
        else:
            scores[candidates] = 0.0
        return hits

    def _dense_best(
        self, ids: list[int], members: dict[int, float], credits: list[float]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Add a synonym group's best member weight per passage to the scores, member by
        member over one dense array (linear; sorting millions of postings is not):
        the group's passages, in order, and the coverage credit each earns."""
        # scratch arrays, kept like _scores; best is zeroed after use
        if self._best is None or self._credit is None:
            self._best = np.zeros(len(self), dtype=np.float32)
            self._credit = np.zeros(len(self), dtype=np.float32)
        best, credit = self._best, self._credit
        for i, earned in zip(ids, credits, strict=True):
            start, end = self.indptr[i], self.indptr[i + 1]
            rows = self.indices[start:end]
            weights = self.weights[start:end] * np.float32(members[i])
            better = weights > best[rows]
            best[rows[better]] = weights[better]
            credit[rows[better]] = earned
        rows = np.flatnonzero(best)
        self._scores[rows] += best[rows]
        credits_earned = credit[rows].astype(np.float64)
        best[rows] = 0.0
        return rows, credits_earned

    def _contenders(self, found: list[tuple[np.ndarray, float | np.ndarray]], k: int) -> np.ndarray:
        """The passages scoring at least the k-th best score of the group with fewest passages
        (a lower bound of the k-th best score overall): a superset of the top k."""
        scores, rarest = self._scores, min((rows for rows, _ in found), key=len)
        if len(rarest) < k:
            return np.flatnonzero(scores)
        bound = np.partition(scores[rarest], len(rarest) - k)[len(rarest) - k]
        return np.flatnonzero(scores >= bound)

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

    def _top(
        self, candidates: np.ndarray, k: int, total_idf: float,
        found: list[tuple[np.ndarray, float | np.ndarray]], include: Sequence[int] = (),
    ) -> list[Hit]:
        values = self._scores[candidates]
        if len(candidates) > k:
            part = np.argpartition(-values, k - 1)[:k]
            candidates, values = candidates[part], values[part]
        order = np.lexsort((candidates, -values))  # best first; ties by passage order
        positive = values[order] > 0
        best = candidates[order][positive]
        extra = np.array([i for i in dict.fromkeys(include) if i not in set(best.tolist())])
        best = np.concatenate([best, extra.astype(best.dtype)]) if len(extra) else best
        values = self._scores[best]
        matched = np.zeros(len(best), dtype=np.float32)  # coverage, for the k hits only
        count = np.zeros(len(best), dtype=np.int64)
        for rows, credits in found:
            at = np.minimum(np.searchsorted(rows, best), len(rows) - 1)
            hit = rows[at] == best
            matched[hit] += credits if isinstance(credits, float) else credits[at[hit]]
            count += hit
        return [
            Hit(self.passages[int(i)], float(v), float(m) / total_idf if total_idf > 0 else 0.0,
                int(i), int(c))
            for i, v, m, c in zip(best, values, matched, count, strict=True)
        ]
