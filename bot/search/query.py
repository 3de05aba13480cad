"""A question analysed once: its language, its groups of index terms, their weights and IDF,
and the kind of answer it wants. Every later step reads this one frozen `Query`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.language import english
from bot.language.dictionary import Dictionary
from bot.language.german import Analyzer
from bot.language.thesaurus import Thesaurus
from bot.search.answer_type import AnswerType, question_type
from bot.search.hits import Group

MAX_GROUPS = 64  # a question longer than this many words is cut; the start is what counts
SYNONYM_FACTOR = 0.5  # a synonym's weight relative to the question's own word


@dataclass(frozen=True)
class Query:
    """One question as every stage sees it."""

    text: str
    language: str  # "de" or "en"
    groups: tuple[Group, ...]  # one group of index terms per question word (best one counts)
    factors: tuple[tuple[float, ...], ...]  # each member's weight factor (synonyms less)
    idf: dict[str, float]  # each known term's IDF in the index (for coverage and windows)
    kind: AnswerType | None  # the kind of answer asked for

    @property
    def terms(self) -> frozenset[str]:
        """Every index term the question asks for (to highlight them)."""
        return frozenset(t for g in self.groups for t in g)


def analyse(question: str, analyzer: Analyzer, known: Callable[[str], bool],
            idf: Callable[[str], float | None], dictionary: Dictionary | None = None,
            thesaurus: Thesaurus | None = None) -> Query:
    """The question's language and structured query: an English word becomes the group of its
    German translations (with their other forms), a German word the group of its forms plus
    its thesaurus synonyms at SYNONYM_FACTOR."""
    language = english.detect_language(question)
    groups: list[Group] = []
    factors: list[tuple[float, ...]] = []
    if language == "en":
        for original, *translations in english.translate_question(question, dictionary):
            # the English word as written (a name, or a word German shares: "Deal"), and
            # the German translations with their other forms
            terms = dict.fromkeys(analyzer.analyze(original), 1.0) | {
                t: 1.0 for m in translations for g in analyzer.query_groups(m, known)
                for t in g}
            if terms:
                groups.append(tuple(terms))
                factors.append(tuple(terms.values()))
        groups, factors = groups[:MAX_GROUPS], factors[:MAX_GROUPS]
    else:
        for forms in analyzer.query_groups(question, known, MAX_GROUPS):
            synonyms = {s for f in forms for s in thesaurus.synonyms(f)} if thesaurus else set()
            extra = tuple(sorted(s for s in synonyms if s not in forms and known(s)))
            groups.append(forms + extra)
            factors.append((1.0,) * len(forms) + (SYNONYM_FACTOR,) * len(extra))
    weights = {t: w for g in groups for t in g if (w := idf(t)) is not None}
    return Query(question, language, tuple(groups), tuple(factors), weights,
                 question_type(question))
