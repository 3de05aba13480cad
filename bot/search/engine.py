"""The answering engine: a question in, answers (sure, hedged, or an honest "don't know") out.

A question travels one way, through components with one job each:

    question ─ analyse ─▶ Query ─┬─ LexicalRetriever (BM25) ─┬─ join ─▶ Candidates
                                  └─ DenseRetriever (vectors) ─┘
        Candidates ─ Judge.decide ─▶ Decision ─ compose (+ Judge.mark) ─▶ Answers

`analyse` (bot/search/query.py) reads the question once; each retriever (the same protocol,
bot/search/candidates.py) brings its top and its evidence on the other's; `join` makes one
table of them; a judge (bot/search/judges.py) orders them and decides — the fitted `Ranker`
(is the question about anything the news holds? off topic: no answer; is the best passage
surely the answer? not sure: shown under a hedge), or, with the lexical stage's evidence
alone, BM25's coverage rule; `compose` shows the best passage with a close second of its
article, and the judge marks the sentence that answers. Without the semantic stage (no model,
NEWSBOT_SEMANTIC=off) BM25 is the one retriever; while an archive is still being embedded, a
question whose lexical top lacks vectors is judged by the coverage rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bot.knowledge.articles import Article
from bot.knowledge.passages import Passage, passage_sentences
from bot.language.dictionary import Dictionary
from bot.language.german import Analyzer
from bot.language.thesaurus import Thesaurus
from bot.search.candidates import Candidates, Decision, LexicalEvidence, Retriever, join
from bot.search.compose import groups_of
from bot.search.fusion import Ranker
from bot.search.hits import Hit
from bot.search.judges import MIN_COVERAGE, CoverageRule, Judge
from bot.search.lexical.index import Index
from bot.search.lexical.retriever import RERANK_DEPTH, LexicalRetriever
from bot.search.query import Query, analyse
from bot.search.semantic.retriever import DenseRetrieval, DenseRetriever
from bot.search.semantic.stage import Semantic
from bot.search.sentence import Shown

LEXICAL_DEPTH = DENSE_DEPTH = 30  # candidates each retriever hands to the join


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
        self.semantic = semantic  # its vectors grow in place as the background embedder works
        self.ranker = ranker

    def replace(self, **parts: Any) -> Engine:
        """A new engine of the same parts but those given (e.g. `ranker=`, `min_coverage=`)."""
        given = {"articles": self.articles, "index": self.index, "analyzer": self.analyzer,
                 "dictionary": self.dictionary, "min_coverage": self.min_coverage,
                 "thesaurus": self.thesaurus, "semantic": self.semantic, "ranker": self.ranker}
        unknown = set(parts) - set(given)
        if unknown:
            raise TypeError(f"an engine has no part {sorted(unknown)}")
        return Engine(**{**given, **parts})

    @property
    def hybrid(self) -> bool:
        """Whether the semantic stage takes part (a model, a ranker, some vectors)."""
        return self.dense is not None

    @property
    def lexical(self) -> Retriever[LexicalEvidence]:
        """BM25 over this index."""
        return LexicalRetriever(self.index, self.analyzer)

    @property
    def dense(self) -> DenseRetriever | None:
        """Nearest vectors, when the semantic stage takes part (read once per question: a
        reload may replace it meanwhile)."""
        semantic = self.semantic
        if semantic is None or self.ranker is None or not semantic.count:
            return None
        return DenseRetriever(semantic)

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
        c, dense = self.retrieve(query)
        judge = self.judge(c)
        decision = judge.decide(c)
        if abstain and not decision.on_topic:
            return Answers(question, query.language, [], query.terms, False)
        hits = self._compose(query, c, decision, judge, dense, k, abstain)
        return Answers(question, query.language, hits, query.terms,
                       decision.sure or not abstain)

    def retrieve(self, query: Query, vector: np.ndarray | None = None,
                 retriever: DenseRetriever | None = None
                 ) -> tuple[Candidates, DenseRetrieval | None]:
        """Every retriever's top for the question, joined with both stages' evidence (the
        dense retrieval too, for the shown passages' sentences; `vector`: the question's,
        when the caller has it; `retriever`: another dense one than the engine's). The dense
        retriever starts first: it embeds the question in another thread while BM25
        searches."""
        retriever = retriever or self.dense
        dense = retriever.retrieve(query, DENSE_DEPTH, vector) if retriever else None
        lexical = self.lexical.retrieve(query, LEXICAL_DEPTH)
        return join(query, self.index.passages, lexical, dense), dense

    def candidates(self, query: Query, semantic: Semantic | None = None,
                   vector: np.ndarray | None = None) -> Candidates:
        """The joined candidates of a question (`semantic`: other vectors than the engine's,
        as `make fit` asks; `vector`: the question's, when the caller has it)."""
        return self.retrieve(query, vector,
                             DenseRetriever(semantic) if semantic is not None else None)[0]

    def judge(self, c: Candidates) -> Judge:
        """The fitted ranker where the candidates carry both stages' evidence, else BM25's
        coverage rule."""
        if self.ranker is not None and c.has_vectors(RERANK_DEPTH):
            return self.ranker
        return CoverageRule(self.min_coverage)

    def _compose(self, query: Query, c: Candidates, decision: Decision, judge: Judge,
                 dense: DenseRetrieval | None, k: int, abstain: bool) -> list[Hit]:
        """The answers in the decided order, each with its companion and marked sentence."""
        passages = [self.index.passages[int(i)] for i in c.ids]
        order = [int(i) for i in decision.order]
        groups = groups_of(order, c.article.tolist(), [len(p.text) for p in passages],
                           judge.companion_depth, max(k, 1))
        if abstain and len(groups) > 1:  # a later answer must answer too
            kept = set(judge.later(c, decision, [at for at, _ in groups[1:]]))
            groups = groups[:1] + [g for g in groups[1:] if g[0] in kept]
        hits = []
        for at, companion in groups:
            shown = [self._shown(passages[place], int(c.ids[place]), dense, place == at)
                     for place in (at, companion) if place is not None]
            sentence = judge.mark(query, shown, self.analyzer.analyze)
            hits.append(Hit(passages[at], float(decision.fused[at]), float(c.coverage[at]),
                            int(c.ids[at]), int(c.matched[at]), sentence,
                            passages[companion] if companion is not None else None))
        return hits

    @staticmethod
    def _shown(passage: Passage, i: int, dense: DenseRetrieval | None, first: bool) -> Shown:
        if dense is None:
            return Shown(passage, passage_sentences(passage), None, first)
        return Shown(passage, dense.sentences(i), dense.sentence_cosines(i), first)
