"""Text analysis for German news. The same `Analyzer.analyze` serves passages and questions.

Steps: Unicode word tokens → casefold → stopwords out → hyphenated compounds indexed whole and
by part → closed compounds split into parts that occur as words in the knowledge base itself
(frequency-based, after Koehn & Knight 2003, "Empirical Methods for Compound Splitting") →
Snowball German stems (PyStemmer) with umlauts and ß folded (ä→a, ß→ss).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

import Stemmer

from bot.language.stopwords import GERMAN_STOPWORDS

TOKEN_RE = re.compile(r"[^\W_]+(?:[-‐‑][^\W_]+)*")
PART_RE = re.compile(r"[^\W_]+")  # TOKEN_RE's tokens split at their hyphens
FOLD = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss"})
MIN_PART = 4  # shortest compound part we trust
CACHE_WORDS = 2_000_000  # analysed words kept; an archive's vocabulary fits
MAX_COMPOUND = 40  # longer "words" are not split (junk; and splitting is cubic in length)
FUGEN = ("", "s", "es", "n", "en", "e")  # linking elements between compound parts
# Endings Snowball leaves on German verb forms and -ung nouns ("kauft", "plante", "Drohung"),
# and the endings of the other forms of the same word: tried on question words only.
FORM_ENDINGS = ("ungen", "ung", "etest", "etet", "eten", "ete", "test", "tet", "ten", "te",
                "est", "et", "st", "t", "en", "n", "e")
OTHER_ENDINGS = ("", "en", "n", "t", "ung")


def normalize(text: str) -> str:
    """NFKC, casefold (ß → ss), and drop zero-width and control characters."""
    text = unicodedata.normalize("NFKC", text).casefold()
    if text.isprintable():  # no control or format character (the usual case): nothing to drop
        return text
    return "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")


def words(text: str) -> list[str]:
    """The normalized word tokens of a text; hyphenated compounds stay one token."""
    return TOKEN_RE.findall(normalize(text).replace("‐", "-").replace("‑", "-"))


def is_content(word: str) -> bool:
    """A word that can decide relevance: not a stopword, not a lone letter."""
    return word not in GERMAN_STOPWORDS and (len(word) > 1 or word.isdigit())


class Analyzer:
    """German analysis with a compound splitter that knows the knowledge base's words.

    `frequencies` counts the normalized words of the knowledge base (`count_words`); without
    it, closed compounds are not split.
    """

    def __init__(self, frequencies: Counter[str] | None = None) -> None:
        self.frequencies: Counter[str] = frequencies or Counter()
        self._stemmer = Stemmer.Stemmer("german")
        self._cache: dict[str, tuple[str, ...]] = {}
        self._stem_frequencies: Counter[str] | None = None

    def stem(self, word: str) -> str:
        """Snowball German stem with umlauts folded."""
        return self._stemmer.stemWord(word).translate(FOLD)

    def analyze(self, text: str) -> list[str]:
        """Index terms of a passage or question, in order, repeats kept (they are tf)."""
        terms: list[str] = []
        for word in words(text):
            terms.extend(self.word_terms(word))
        return terms

    def known_words(self) -> dict[str, tuple[str, ...]]:
        """The analysed words so far (word → index terms): saved with an index, so a loaded
        index answers without splitting its own words' compounds again."""
        return self._cache

    def remember(self, analysed: dict[str, Sequence[str]]) -> None:
        """Take words analysed elsewhere (by index workers, or from a saved index)."""
        for word, terms in analysed.items():
            self._cache[word] = tuple(terms)

    def word_terms(self, word: str) -> tuple[str, ...]:
        """The index terms of one normalized word (as `words` gives them), cached."""
        cached = self._cache.get(word)
        if cached is None:
            if len(self._cache) >= CACHE_WORDS:  # questions bring new words forever
                self._cache.clear()
            cached = self._cache[word] = self._word_terms(word)
        return cached

    def _word_terms(self, word: str) -> tuple[str, ...]:
        if "-" in word:
            parts = [p for p in word.split("-") if is_content(p)]
            whole = self.stem(word.replace("-", "")) if len(parts) > 1 else None
            terms = [whole] if whole else []
            for part in parts:
                terms.extend(self._word_terms(part))
            return tuple(terms)
        if not is_content(word):
            return ()
        parts = self.split_compound(word)
        stems = [self.stem(word)]
        if len(parts) > 1:
            stems.extend(self.stem(p) for p in parts if is_content(p))
        return tuple(stems)

    def split_compound(self, word: str) -> list[str]:
        """Split a closed compound into known words, or return [word] (Koehn & Knight 2003).

        Among all splits into parts of at least MIN_PART letters (with linking -s-, -es-, -n-,
        -en-, -e-) whose parts occur in the knowledge base in some inflected form (same stem),
        take the one with the highest geometric mean of part frequencies, if it beats the
        word's own frequency.
        """
        if not 2 * MIN_PART <= len(word) <= MAX_COMPOUND or not word.isalpha():
            return [word]
        if not self.frequencies:
            return [word]
        known: dict[str, int] = {}  # the frequencies of this word's parts: each stemmed once
        best, best_score = [word], float(self._frequency(word, known))
        for parts in self._splits(word, 3, known):
            score = math.prod(known[p] for p in parts) ** (1 / len(parts))
            if score > best_score:
                best, best_score = parts, score
        return best

    def _frequency(self, word: str, known: dict[str, int]) -> int:
        """How often the knowledge base uses the word in any inflected form (same stem)."""
        if word not in known:
            if self._stem_frequencies is None:
                self._stem_frequencies = Counter()
                for form, count in self.frequencies.items():
                    self._stem_frequencies[self.stem(form)] += count
            known[word] = self._stem_frequencies.get(self.stem(word), 0)
        return known[word]

    def _splits(self, word: str, depth: int, known: dict[str, int]) -> Iterable[list[str]]:
        for i in range(MIN_PART, len(word) - MIN_PART + 1):
            head, tail = word[:i], word[i:]
            if not self._frequency(head, known):
                continue
            for fuge in FUGEN:
                if fuge and not tail.startswith(fuge):
                    continue
                rest = tail[len(fuge) :]
                if len(rest) < MIN_PART:
                    continue
                if self._frequency(rest, known):
                    yield [head, rest]
                if depth > 2:
                    for more in self._splits(rest, depth - 1, known):
                        yield [head, *more]

    def query_groups(
        self, text: str, known: Callable[[str], bool], limit: int | None = None
    ) -> list[tuple[str, ...]]:
        """Analyze a question into groups of index terms: each word's stem with the stems of
        its other forms that the index knows.

        Snowball keeps German verb endings, participles and -ung nouns apart ("kauft",
        "gekauft", "kaufen" → "kauft", "gekauft", "kauf"; "fordert" vs "Forderung"), so a
        question's word also matches the passages that use another form of it. At most
        `limit` groups: the start of a very long question is what counts.
        """
        groups: list[tuple[str, ...]] = []
        for word in words(text):
            if limit is not None and len(groups) >= limit:
                break
            terms = self.word_terms(word)
            if not terms:
                continue
            forms = {term for form in other_forms(word) if len(term := self.stem(form)) >= 3
                     and term != terms[0] and known(term)} if word.isalpha() else set()
            groups.append((terms[0], *sorted(forms)))
            groups.extend((term,) for term in terms[1:])
        return groups[:limit]


def other_forms(word: str) -> set[str]:
    """Words that may be other forms of the same German word, by swapping a verb or -ung
    ending and dropping a participle's ge-: kauft → kaufen, kaufung …; gekauft → kauft …;
    Drohung → droht, drohen …. Most are no words at all; the caller keeps the known ones."""
    bases = {word, word[2:]} if word.startswith("ge") and len(word) > 6 else {word}
    forms: set[str] = set()
    for base in bases:
        for ending in FORM_ENDINGS:
            if base.endswith(ending) and len(base) - len(ending) >= 3:
                forms.update(base[: -len(ending)] + other for other in OTHER_ENDINGS)
    forms.discard(word)
    return forms


def count_words(texts: Iterable[str]) -> Counter[str]:
    """Word frequencies of the knowledge base, the compound splitter's lexicon."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(PART_RE.findall(normalize(text)))
    return counts
