"""The k best passages of a structured query over an index's term-major (CSR) arrays.

A group's score for a passage is the best weight of its terms (see `bot/search/lexical/index.py`).
Groups of rare terms are scored in full first; a group of frequent terms (its postings at
least 1/LAZY of the passages: a common word with its verb forms) is scored lazily, MaxScore-
style (Turtle & Flood 1995, "Query evaluation: strategies and optimizations"): once the k-th
best score so far exceeds what all the frequent groups left could add, no passage outside
the current candidates can reach the top k, and those groups are only looked up for the
candidates. The top k is the same as scoring everything; only the work differs.

Every scratch array is allocated per call (as bm25s does), so threads can search one index
at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from bot.search.hits import Hit

DENSE = 16  # a group whose postings reach 1/16 of the passages is merged densely, not sorted
LAZY = 64  # a group whose postings reach 1/64 of the passages may be scored lazily
LOOKUP = 8  # a lookup (binary search) costs about this many postings scanned
MARGIN = 1e-3  # float32 sums may exceed the sum of bounds by rounding: keep well clear


class Postings(Protocol):
    """What the search needs of an index."""

    indptr: np.ndarray
    indices: np.ndarray
    weights: np.ndarray
    passages: Sequence

    def __len__(self) -> int: ...

    def max_weight(self, term: int) -> float: ...


@dataclass
class Plan:
    """One group of the query: its indexed terms (sorted), each term's weight factor and
    coverage credit, and how many postings they have."""

    ids: list[int]
    factors: list[float]
    credits: list[float]
    size: int

    def bound(self, index: Postings) -> float:
        """The most the group adds to a passage's score."""
        return max(index.max_weight(i) * f for i, f in zip(self.ids, self.factors, strict=True))


Found = tuple[np.ndarray, float | np.ndarray] | Plan  # scored: (passages, credits); or lazy


def search(index: Postings, plans: list[Plan], k: int, total_idf: float,
           include: Sequence[int] = ()) -> list[Hit]:
    """The k best passages for the groups' plans, then `include`'s (see `Index.search`)."""
    n = len(index)
    if not plans:
        return [Hit(index.passages[i], 0.0, 0.0, i) for i in dict.fromkeys(include)]
    scores = np.zeros(n, dtype=np.float32)
    cheap = [p for p in plans if p.size * LAZY < n]
    bounds = {id(p): p.bound(index) for p in plans if p.size * LAZY >= n}
    frequent = sorted((p for p in plans if id(p) in bounds), key=lambda p: -bounds[id(p)])
    found: list[Found] = [_score(index, p, scores) for p in cheap]
    rest = sum(bounds.values())
    theta = 0.0
    while frequent:
        theta = _kth(scores, found, k) or 0.0
        if theta > 0 and rest + MARGIN * (1 + theta) < theta:
            break  # what the frequent groups left add cannot lift anyone else into the top k
        plan = frequent.pop(0)
        rest -= bounds[id(plan)]
        found.append(_score(index, plan, scores))
    touched = sum(len(f[0]) for f in found if not isinstance(f, Plan))
    dense = len(found) > 1 and touched * DENSE >= n
    if frequent:  # lazily: only those that can still reach the k-th score
        cutoff = theta - rest - MARGIN * (1 + theta)  # > 0: see the loop above
        if dense:
            candidates = np.flatnonzero(scores >= cutoff)
        else:
            candidates = _union(found)
            candidates = candidates[scores[candidates] >= cutoff]
        candidates = _with(candidates, include)
        for plan in frequent:  # looked up for the candidates, or scanned when that is cheaper
            if len(candidates) * len(plan.ids) * LOOKUP > plan.size:
                found.append(_score(index, plan, scores))
                continue
            weights, _, _ = _evaluate(index, plan, candidates)
            scores[candidates] += weights
            found.append(plan)
    elif len(found) == 1:
        candidates = found[0][0]  # type: ignore[index]
    elif not dense:  # few passages: their distinct ones, by sorting (np.unique hashes: slow)
        candidates = _union(found)
    else:  # many: only those that can make the top k
        bound = _kth(scores, found, k)
        candidates = np.flatnonzero(scores) if bound is None else np.flatnonzero(scores >= bound)
    return _top(index, scores, candidates, k, total_idf, found, include)


def score(index: Postings, plans: list[Plan], total_idf: float, ids: Sequence[int]) -> list[Hit]:
    """These passages (each once, in order) scored as `search` scores them."""
    wanted = np.fromiter(dict.fromkeys(int(i) for i in ids), np.int64)
    values = np.zeros(len(wanted), dtype=np.float32)
    matched = np.zeros(len(wanted), dtype=np.float32)
    count = np.zeros(len(wanted), dtype=np.int64)
    for plan in plans:
        weights, earned, hit = _evaluate(index, plan, wanted)
        values += weights
        matched[hit] += earned[hit]
        count += hit
    return _hits(index, wanted, values, matched, count, total_idf)


def _hits(index: Postings, ids: np.ndarray, values: np.ndarray, matched: np.ndarray,
          count: np.ndarray, total_idf: float) -> list[Hit]:
    return [
        Hit(index.passages[int(i)], float(v), float(m) / total_idf if total_idf > 0 else 0.0,
            int(i), int(c))
        for i, v, m, c in zip(ids, values, matched, count, strict=True)
    ]


def _union(found: list[Found]) -> np.ndarray:
    """The passages of the scored groups, sorted, each once (each group's are already)."""
    scored = [f[0] for f in found if not isinstance(f, Plan)]
    if len(scored) == 1:
        return scored[0]
    rows = np.sort(np.concatenate(scored))
    return rows[np.r_[True, rows[1:] != rows[:-1]]] if len(rows) else rows


def _with(candidates: np.ndarray, include: Sequence[int]) -> np.ndarray:
    """The (sorted) candidates and the included passages that are not among them."""
    extra = np.array(sorted(set(include)), np.int64)
    if not len(extra) or not len(candidates):
        return np.concatenate([candidates, extra]).astype(np.int64)
    at = np.minimum(np.searchsorted(candidates, extra), len(candidates) - 1)
    return np.concatenate([candidates, extra[candidates[at] != extra]]).astype(np.int64)


def _kth(scores: np.ndarray, found: list[Found], k: int) -> float | None:
    """A lower bound of the k-th best score: the k-th best within the scored group with
    fewest passages, of those with k at least (k passages score that much already); None
    when no group has k."""
    scored = [f[0] for f in found if not isinstance(f, Plan) and len(f[0]) >= max(k, 1)]
    rarest = min(scored, key=len) if scored else ()
    if k <= 0 or len(rarest) < k:
        return None
    return float(np.partition(scores[rarest], len(rarest) - k)[len(rarest) - k])


def _score(index: Postings, plan: Plan,
           scores: np.ndarray) -> tuple[np.ndarray, float | np.ndarray]:
    """Add the group's best member weight per passage to the scores: the group's passages,
    in order, and the coverage credit each earns."""
    ids, factors, credits, n = plan.ids, plan.factors, plan.credits, len(scores)
    if len(ids) > 1 and plan.size * DENSE >= n:  # many: member by member, one dense array
        best, credit = np.zeros(n, dtype=np.float32), np.zeros(n, dtype=np.float32)
        for i, factor, earned in zip(ids, factors, credits, strict=True):
            start, end = index.indptr[i], index.indptr[i + 1]
            rows = index.indices[start:end]
            weights = index.weights[start:end] * np.float32(factor)
            better = weights > best[rows]
            best[rows[better]] = weights[better]
            credit[rows[better]] = earned
        rows = np.flatnonzero(best)
        scores[rows] += best[rows]
        return rows, credit[rows].astype(np.float64)
    slices = [slice(index.indptr[i], index.indptr[i + 1]) for i in ids]
    if len(ids) == 1:
        rows = index.indices[slices[0]]
        scores[rows] += index.weights[slices[0]] * factors[0]
        return rows, credits[0]
    rows = np.concatenate([index.indices[s] for s in slices])
    sizes = [s.stop - s.start for s in slices]
    weights = np.concatenate([index.weights[s] for s in slices]) * np.repeat(factors, sizes)
    order = np.lexsort((-weights, rows))  # the best weight of the group's terms, per passage
    rows, weights = rows[order], weights[order]
    first = np.r_[True, rows[1:] != rows[:-1]]
    scores[rows[first]] += weights[first]
    return rows[first], np.repeat(np.array(credits), sizes)[order][first]


def _evaluate(index: Postings, plan: Plan, passages: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The group's weight for each of these passages, the credit it earns, and
    whether it is there at all: looked up in each term's postings (sorted by passage)."""
    best = np.zeros(len(passages), dtype=np.float32)
    credit = np.zeros(len(passages), dtype=np.float64)
    for i, factor, earned in zip(plan.ids, plan.factors, plan.credits, strict=True):
        start, end = int(index.indptr[i]), int(index.indptr[i + 1])
        rows = index.indices[start:end]
        at = np.minimum(np.searchsorted(rows, passages), end - start - 1)
        hit = rows[at] == passages
        weights = np.where(hit, index.weights[start + at] * np.float32(factor), 0)
        better = weights > best
        best[better], credit[better] = weights[better], earned
    return best, credit, best > 0


def _top(index: Postings, scores: np.ndarray, candidates: np.ndarray, k: int, total_idf: float,
         found: list[Found], include: Sequence[int] = ()) -> list[Hit]:
    candidates = candidates if k > 0 else candidates[:0]
    values = scores[candidates]
    if len(candidates) > k:  # the k best, and any tied with the k-th (argpartition would
        keep = values >= np.partition(values, len(values) - k)[len(values) - k]  # pick any)
        candidates, values = candidates[keep], values[keep]
    order = np.lexsort((candidates, -values))[:k]  # best first; ties by passage order
    positive = values[order] > 0
    best = candidates[order][positive]
    extra = np.array([i for i in dict.fromkeys(include) if i not in set(best.tolist())])
    best = np.concatenate([best, extra.astype(best.dtype)]) if len(extra) else best
    values = scores[best]
    matched = np.zeros(len(best), dtype=np.float32)  # coverage, for the k hits only
    count = np.zeros(len(best), dtype=np.int64)
    for entry in found:
        if isinstance(entry, Plan):
            _, earned, hit = _evaluate(index, entry, best)
            matched[hit] += earned[hit]
            count += hit
            continue
        rows, credits = entry
        at = np.minimum(np.searchsorted(rows, best), len(rows) - 1)
        hit = rows[at] == best
        matched[hit] += credits if isinstance(credits, float) else credits[at[hit]]
        count += hit
    return _hits(index, best, values, matched, count, total_idf)
