"""The answering engine: a question in, answers (sure, hedged, or an honest "don't know") out.

A question travels one way: analysed once into a `Query` (bot/search/query.py); the lexical
retriever (BM25, `Index`) and the dense retriever (`Semantic`) each bring their top
passages; `Candidates` joins them with both stages' evidence; the fitted `Ranker` orders them
and takes two decisions — is the question about anything the news holds (off topic: no
answer), and is the best passage surely the answer (not sure: shown under a hedge);
`compose` shows the best passage (with a close second of its article) and marks the sentence
that answers. Without the semantic stage (no model, NEWSBOT_SEMANTIC=off) BM25 ranks alone
and the coverage rule below decides; while an archive is still being embedded, a question
whose top BM25 passages lack vectors is answered that way too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from bot.knowledge.articles import Article
from bot.knowledge.passages import Passage
from bot.language.dictionary import Dictionary
from bot.language.german import Analyzer
from bot.language.thesaurus import Thesaurus
from bot.search.answer_type import holds
from bot.search.compose import answering_sentence, groups_of
from bot.search.fusion import ABSENT, Candidates, Decision, Ranker
from bot.search.index import Hit, Index
from bot.search.query import Query, analyse
from bot.search.rerank import rerank, window_score
from bot.search.semantic import Semantic, passage_sentences

# Without the semantic stage: answer only when the best passage holds at least half of the
# question's IDF-weighted words, or three of its words that make at least 30% (a long
# question rarely matches whole). Chosen by measurement on tests/questions.jsonl (docs/).
MIN_COVERAGE = 0.5
MIN_MATCHED, MIN_COVERAGE_MATCHED = 3, 0.3
RERANK_DEPTH = 10  # how many BM25 candidates the sentence-window reranker sees
LEXICAL_DEPTH = DENSE_DEPTH = 30  # candidates each stage hands to the fusion


@dataclass(frozen=True)
class Answers:
    """What the engine says to one question: the answers best first ([] when the news speaks
    of nothing like it), and whether the first is surely the answer (False: the closest the
    news comes, shown under a hedge)."""

    question: str
    language: str  # "de" or "en"
    hits: list[Hit]
    terms: frozenset[str] = frozenset()  # the index terms asked for (to highlight them)
    sure: bool = True

    @property
    def found(self) -> bool:
        """Whether there is anything to show."""
        return bool(self.hits)

    @property
    def hedged(self) -> bool:
        """Whether the answer is shown as the closest the news comes, not as the answer."""
        return self.found and not self.sure


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

    @property
    def hybrid(self) -> bool:
        """Whether the semantic stage takes part (a model, a ranker, some vectors)."""
        return bool(self.semantic and self.ranker and self.semantic.count)

    def query(self, question: str) -> Query:
        """The question analysed for this index (see bot/search/query.py)."""
        index = self.index

        def idf(term: str) -> float | None:
            at = index.vocabulary.get(term)
            return None if at is None else max(float(index.idf[at]), 0.0)

        return analyse(question, self.analyzer, index.knows, idf, self.dictionary,
                       self.thesaurus)

    def ask(self, question: str, k: int = 3, abstain: bool = True) -> Answers:
        """The k best answers to the question, or none when the news speaks of nothing like
        it (`abstain=False`: the k best whatever they say, for evaluation)."""
        query = self.query(question)
        semantic, ranker = self.semantic, self.ranker
        if semantic is not None and ranker is not None and semantic.count:
            c, vector = self._candidates(query, semantic)
            # fused where the vectors are made: every passage BM25 puts near the top has
            # them (while an archive is still being embedded, the others are BM25's alone)
            if len(c) and not np.isnan(c.cos[c.lexical_rank < RERANK_DEPTH]).any():
                decision = ranker.decide(c)
                if abstain and not decision.on_topic:
                    return Answers(question, query.language, [], query.terms, False)
                hits = self._compose(query, c, decision, ranker, semantic, vector, k)
                return Answers(question, query.language, hits, query.terms,
                               decision.sure or not abstain)
        return self._lexical(query, k, abstain)

    def _search(self, query: Query, k: int, include: Sequence[int] = ()) -> list[Hit]:
        if not query.groups and not include:
            return []
        return self.index.search(query.groups, k, query.factors, include=include)  # thread-safe

    def _lexical(self, query: Query, k: int, abstain: bool) -> Answers:
        """BM25 alone, with the sentence-window reranker and the coverage rule."""
        hits = self._search(query, max(k, RERANK_DEPTH))
        hits = rerank(hits, query.groups, query.factors, self.index, self.analyzer)[: max(k, 1)]
        # Later hits must also be relevant, not just the least bad of the rest.
        relevant = [h for h in hits if self.relevant(h) or not abstain]
        if not hits or not (self.relevant(hits[0]) or not abstain):
            relevant = []
        return Answers(query.text, query.language, [
            replace(h, sentence=self._lexical_sentence(h, query)) for h in relevant
        ], query.terms)

    def candidates(self, query: Query, semantic: Semantic,
                   vector: np.ndarray | None = None) -> Candidates:
        """The lexical and the semantic top of a question, with both stages' evidence
        (`vector`: the question's, when the caller has it)."""
        return self._candidates(query, semantic, vector)[0]

    def _candidates(self, query: Query, semantic: Semantic, vector: np.ndarray | None = None
                    ) -> tuple[Candidates, np.ndarray]:
        """The candidates and the question's vector. Without a vector the question is
        embedded in another thread while BM25 searches (the model releases the GIL), so a
        question waits for the longer of the two, not their sum; the passages only the
        semantic stage found are then scored by lookup, as `search(include=…)` would."""
        pending = semantic.embed_soon(query.text) if vector is None else None
        lexical_hits = self._search(query, LEXICAL_DEPTH)
        if pending is not None:
            vector = pending.result()
        assert vector is not None
        dense = semantic.top(vector, DENSE_DEPTH)
        seen = {h.id for h in lexical_hits}
        found = lexical_hits + self.index.score(query.groups, [i for i in dense if i not in seen],
                                                query.factors)
        lexical = [h for h in found if h.score > 0][:LEXICAL_DEPTH]
        head = rerank(lexical[:RERANK_DEPTH], query.groups, query.factors, self.index,
                      self.analyzer)
        lexical_rank = {h.id: r for r, h in enumerate(head + lexical[RERANK_DEPTH:])}
        dense_rank = {i: r for r, i in enumerate(dense)}
        hits = list({h.id: h for h in found}.values())
        ids = np.array([h.id for h in hits], np.int64)
        cos, sentence_cos, best = semantic.cosines(vector, ids)
        articles: dict[str, int] = {}
        passages = [h.passage for h in hits]
        # the kind of answer asked for, in the passage and in its best sentence (split only
        # where the passage holds it: splitting every candidate is most of a question's time)
        passage_type = [holds(query.kind, p.text) for p in passages]
        sentence_type = [there and holds(query.kind, _nth(semantic.sentences[h.id], b))
                         for h, b, there in zip(hits, best, passage_type, strict=True)]
        return Candidates(
            ids, np.array([h.score for h in hits]), np.array([h.coverage for h in hits]),
            np.array([h.matched for h in hits], np.float64),
            np.array([lexical_rank.get(h.id, ABSENT) for h in hits]),
            np.array([dense_rank.get(h.id, ABSENT) for h in hits]), cos, sentence_cos,
            np.array(best, np.int64),
            np.array([articles.setdefault(p.article, len(articles)) for p in passages]),
            np.array([p.position for p in passages]),
            np.array(sentence_type, np.float64), np.array(passage_type, np.float64),
            query.language == "en", semantic.baseline(vector),
        ), vector

    def _compose(self, query: Query, c: Candidates, decision: Decision, ranker: Ranker,
                 semantic: Semantic, vector: np.ndarray, k: int) -> list[Hit]:
        """The answers in the decided order, each with its companion and marked sentence."""
        passages = [self.index.passages[int(i)] for i in c.ids]
        order = [int(i) for i in decision.order]
        hits = []
        for n, (at, companion) in enumerate(groups_of(order, c.article.tolist(),
                                                      [len(p.text) for p in passages],
                                                      ranker.companion_depth, max(k, 1))):
            if n and not ranker.answers(c, decision, at):  # later answers must answer too
                break
            shown: list[tuple[Passage, list[str], np.ndarray, bool]] = []
            for place, first in ((at, True), (companion, False)):
                if place is None:
                    continue
                i = int(c.ids[place])
                shown.append((passages[place], semantic.sentences[i],
                              semantic.sentence_cosines(vector, i), first))
            sentence = answering_sentence(ranker.sentence, query, shown, self.analyzer.analyze)
            hits.append(Hit(passages[at], float(decision.fused[at]), float(c.coverage[at]),
                            int(c.ids[at]), int(c.matched[at]), sentence,
                            passages[companion] if companion is not None else None))
        return hits

    def _lexical_sentence(self, hit: Hit, query: Query) -> str:
        """The passage's sentence holding most of the question's words (the first on ties)."""
        sentences = passage_sentences(hit.passage)
        scores = [window_score([set(self.analyzer.analyze(s))], query.groups, query.factors,
                               query.idf, 1) for s in sentences]
        return sentences[int(np.argmax(scores))]

    def relevant(self, hit: Hit) -> bool:
        """The coverage rule (BM25 alone): does this passage answer enough of the question?"""
        return hit.coverage >= self.min_coverage or (
            hit.matched >= MIN_MATCHED and hit.coverage >= MIN_COVERAGE_MATCHED
        )


def _nth(sentences: Sequence[str], n: int) -> str:
    """Sentence n of a passage (its last when n is past the end)."""
    return sentences[min(n, len(sentences) - 1)]
