"""The answering engine: a question in, ranked passages (or an honest "don't know") out.

It ties the stages together — knowledge → analysis → index, and for English questions the
dictionary — and knows nothing of Telegram or the command line. With the semantic stage
(`semantic`, `ranker`) the lexical and the semantic top are fused and a fitted model decides
whether to answer; without it (no model, no vectors yet, NEWSBOT_SEMANTIC=off) BM25 ranks
alone and the coverage rule below decides.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from bot.knowledge.articles import Article
from bot.language import english
from bot.language.dictionary import Dictionary
from bot.language.german import Analyzer
from bot.language.thesaurus import Thesaurus
from bot.search.fusion import ABSENT, Candidates, Ranker
from bot.search.index import Group, Hit, Index
from bot.search.rerank import rerank, window_score
from bot.search.semantic import Semantic, passage_sentences

log = logging.getLogger(__name__)

# Answer only when the best passage holds at least half of the question's IDF-weighted words,
# or three of its words that make at least 30% (a long question rarely matches whole).
# Chosen by measurement on tests/questions.jsonl and checked on tests/holdout (see README).
MIN_COVERAGE = 0.5
MIN_MATCHED, MIN_COVERAGE_MATCHED = 3, 0.3
MAX_GROUPS = 64  # a question longer than this many words is cut; the start is what counts
RERANK_DEPTH = 10  # how many BM25 candidates the sentence-window reranker sees
SYNONYM_FACTOR = 0.5  # a synonym's weight relative to the question's own word
LEXICAL_DEPTH = DENSE_DEPTH = 30  # candidates each stage hands to the fusion


@dataclass(frozen=True)
class Answers:
    """What the engine says to one question: the hits best first, [] when it abstains."""

    question: str
    language: str  # "de" or "en"
    hits: list[Hit]
    terms: frozenset[str] = frozenset()  # the index terms asked for (to highlight them)

    @property
    def found(self) -> bool:
        """Whether the news answers the question."""
        return bool(self.hits)


class Engine:
    """Answers questions over one knowledge base; safe to share between handlers."""

    def __init__(
        self,
        articles: Sequence[Article],
        index: Index,
        analyzer: Analyzer,
        dictionary: Dictionary | None = None,
        min_coverage: float = MIN_COVERAGE,
        thesaurus: Thesaurus | None = None,
        semantic: Semantic | None = None,
        ranker: Ranker | None = None,
    ) -> None:
        self.articles = list(articles)
        self.index = index
        self.analyzer = analyzer
        self.dictionary = dictionary
        self.min_coverage = min_coverage
        self.thesaurus = thesaurus
        self.semantic = semantic  # swapped in whole when more vectors are ready
        self.ranker = ranker
        self._lock = threading.Lock()

    @property
    def hybrid(self) -> bool:
        """Whether the semantic stage takes part (a model, a ranker, some vectors)."""
        return bool(self.semantic and self.ranker and self.semantic.count)

    def query(self, question: str) -> tuple[str, list[Group], list[tuple[float, ...]]]:
        """The question's language, its structured query (groups of index terms) and each
        member's weight factor (synonyms from the thesaurus count SYNONYM_FACTOR)."""
        language = english.detect_language(question)
        known = self.index.knows
        if language == "en":
            groups, factors = [], []
            for original, *translations in english.translate_question(question, self.dictionary):
                # the English word as written (a name, or a word German shares: "Deal"), and
                # the German translations with their other forms
                terms = dict.fromkeys(self.analyzer.analyze(original), 1.0) | {
                    t: 1.0 for m in translations for g in self.analyzer.query_groups(m, known)
                    for t in g}
                if terms:
                    groups.append(tuple(terms))
                    factors.append(tuple(terms.values()))
            return language, groups[:MAX_GROUPS], factors[:MAX_GROUPS]
        groups, factors, thesaurus = [], [], self.thesaurus
        for forms in self.analyzer.query_groups(question, known, MAX_GROUPS):
            synonyms = {s for f in forms for s in thesaurus.synonyms(f)} if thesaurus else set()
            extra = tuple(sorted(s for s in synonyms if s not in forms and known(s)))
            groups.append(forms + extra)
            factors.append((1.0,) * len(forms) + (SYNONYM_FACTOR,) * len(extra))
        return language, groups, factors

    def ask(self, question: str, k: int = 3, abstain: bool = True) -> Answers:
        """The k best passages answering the question, or none when the news doesn't say
        (`abstain=False`: the k best whatever they say, for evaluation)."""
        language, groups, factors = self.query(question)
        terms = frozenset(t for g in groups for t in g)
        semantic, ranker = self.semantic, self.ranker
        if semantic is not None and ranker is not None and semantic.count:
            c = self.candidates(question, groups, factors, semantic)
            # fused where the vectors are made: every passage BM25 puts near the top has
            # them (while an archive is still being embedded, the others are BM25's alone)
            if not np.isnan(c.cos[c.lexical_rank < RERANK_DEPTH]).any():
                return Answers(question, language, self._fused(c, ranker, semantic, k, abstain),
                               terms)
        with self._lock:
            depth = max(k, RERANK_DEPTH)
            hits = self.index.search(groups, k=depth, factors=factors) if groups else []
        hits = rerank(hits, groups, factors, self.index, self.analyzer)[: max(k, 1)]
        # Later hits must also be relevant, not just the least bad of the rest.
        relevant = [h for h in hits if self.relevant(h) or not abstain]
        if not hits or not (self.relevant(hits[0]) or not abstain):
            relevant = []
        idf = self._idf(groups)
        return Answers(question, language, [
            replace(h, sentence=self._lexical_sentence(h, groups, factors, idf)) for h in relevant
        ], terms)

    def candidates(self, question: str, groups: list[Group], factors: list[tuple[float, ...]],
                   semantic: Semantic) -> Candidates:
        """The lexical and the semantic top of a question, with both stages' evidence."""
        vector = semantic.embed(question)
        dense = semantic.top(vector, DENSE_DEPTH)
        with self._lock:
            found = self.index.search(groups, LEXICAL_DEPTH, factors, include=dense)
        lexical = [h for h in found if h.score > 0][:LEXICAL_DEPTH]
        head = rerank(lexical[:RERANK_DEPTH], groups, factors, self.index, self.analyzer)
        lexical_rank = {h.id: r for r, h in enumerate(head + lexical[RERANK_DEPTH:])}
        dense_rank = {i: r for r, i in enumerate(dense)}
        hits = list({h.id: h for h in found}.values())
        ids = np.array([h.id for h in hits], np.int64)
        cos, sentence_cos, best = semantic.cosines(vector, ids)
        return Candidates(
            ids, np.array([h.score for h in hits]), np.array([h.coverage for h in hits]),
            np.array([h.matched for h in hits], np.float64),
            np.array([lexical_rank.get(h.id, ABSENT) for h in hits]),
            np.array([dense_rank.get(h.id, ABSENT) for h in hits]), cos, sentence_cos, best,
        )

    def _fused(self, c: Candidates, ranker: Ranker, semantic: Semantic, k: int,
               abstain: bool = True) -> list[Hit]:
        """The fused top k, each kept while the answer model says it answers."""
        if not len(c):
            return []
        order, fused = ranker.order(c)
        hits = []
        for place, at in enumerate(order[: max(k, 1)]):
            following = fused[order[place + 1]] if place + 1 < len(order) else fused[at] - 1
            lead = float(fused[at] - following) if place == 0 else 0.0  # later: as if tied
            if abstain and ranker.probability(c, fused, int(at), lead) < ranker.threshold:
                break
            i = int(c.ids[at])
            sentences = semantic.sentences[i]
            hits.append(Hit(self.index.passages[i], float(fused[at]), float(c.coverage[at]), i,
                            int(c.matched[at]), sentences[min(c.best_sentence[at],
                                                              len(sentences) - 1)]))
        return hits

    def _idf(self, groups: list[Group]) -> dict[str, float]:
        index = self.index
        return {t: max(float(index.idf[index.vocabulary[t]]), 0.0)
                for g in groups for t in g if t in index.vocabulary}

    def _lexical_sentence(self, hit: Hit, groups: list[Group], factors: list[tuple[float, ...]],
                          idf: dict[str, float]) -> str:
        """The passage's sentence holding most of the question's words (the first on ties)."""
        sentences = passage_sentences(hit.passage)
        scores = [window_score([set(self.analyzer.analyze(s))], groups, factors, idf, 1)
                  for s in sentences]
        return sentences[int(np.argmax(scores))]

    def relevant(self, hit: Hit) -> bool:
        """The abstention rule: does this passage answer enough of the question?"""
        return hit.coverage >= self.min_coverage or (
            hit.matched >= MIN_MATCHED and hit.coverage >= MIN_COVERAGE_MATCHED
        )
