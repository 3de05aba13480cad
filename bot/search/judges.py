"""Who decides over the joined candidates: their order, whether the news speaks of the
question at all, whether the best is surely the answer, which later ones answer too, and
which sentence to mark.

Two judges follow the one protocol: the fitted `Ranker` (bot/search/fusion.py), when the
candidates carry both stages' evidence; and the `CoverageRule`, BM25's own, when they carry
only the lexical stage's (no model, NEWSBOT_SEMANTIC=off, or passages not yet embedded).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from bot.search.candidates import ABSENT, Candidates, Decision
from bot.search.query import Query
from bot.search.sentence import Shown, most_words_sentence

# Without the semantic stage: answer only when the best passage holds at least half of the
# question's IDF-weighted words, or three of its words that make at least 30% (a long
# question rarely matches whole). Chosen by measurement on tests/questions.jsonl (docs/).
MIN_COVERAGE = 0.5
MIN_MATCHED, MIN_COVERAGE_MATCHED = 3, 0.3


class Judge(Protocol):
    """Decides over one question's candidates."""

    @property
    def companion_depth(self) -> int:
        """A same-article passage this high in the order is shown with an answer."""
        ...

    def decide(self, c: Candidates) -> Decision:
        """The order, and whether to answer at all and surely."""
        ...

    def later(self, c: Candidates, decision: Decision, places: Sequence[int]) -> list[int]:
        """Which of the later answers (candidate places, in the decided order) answer too
        and are shown ("more")."""
        ...

    def mark(self, query: Query, shown: Sequence[Shown],
             analyze: Callable[[str], list[str]]) -> str:
        """The sentence that answers, of the shown passages."""
        ...


@dataclass(frozen=True)
class CoverageRule:
    """BM25's judge: the lexical order (its head reranked by sentence windows); an answer
    only when a passage holds enough of the question (`relevant`), and then a sure one —
    BM25 alone has no evidence to hedge on."""

    min_coverage: float = MIN_COVERAGE
    companion_depth: int = 0

    def relevant(self, c: Candidates, at: int) -> bool:
        """Does candidate `at` hold enough of the question's words?"""
        return bool(c.coverage[at] >= self.min_coverage or (
            c.matched[at] >= MIN_MATCHED and c.coverage[at] >= MIN_COVERAGE_MATCHED))

    def decide(self, c: Candidates) -> Decision:
        """The lexical top in its order; an answer when the best holds enough."""
        ranked = np.flatnonzero(c.lexical_rank < ABSENT)
        order = ranked[np.argsort(c.lexical_rank[ranked], kind="stable")]
        fused = c.bm25 if c.reranked is None else c.reranked
        on_topic = bool(len(order)) and self.relevant(c, int(order[0]))
        return Decision(order, fused, on_topic, True, np.zeros((len(c), 0)))

    def later(self, c: Candidates, decision: Decision, places: Sequence[int]) -> list[int]:
        """Those of the next answers that hold enough of the question (the others are
        passed over, not shown)."""
        return [at for at in places if self.relevant(c, at)]

    def mark(self, query: Query, shown: Sequence[Shown],
             analyze: Callable[[str], list[str]]) -> str:
        return most_words_sentence(query, shown, analyze)
