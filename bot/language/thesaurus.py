"""German synonyms from OpenThesaurus, for query expansion.

Debian's `openthesaurus-de-text` installs the thesaurus as text, one synset a line, entries
separated by `;`, with labels and optional parts in parentheses: `kaufen (Hauptform);erwerben;
(sich) zulegen;käuflich erwerben`. We keep the entries that are one word once the parentheses
are gone and map each word's stem to the stems of its synonyms, so the engine can put them
into the question word's group (Pirkola): a passage that says "erwerben" then answers "kaufen".
Nothing of the thesaurus is copied into the repository; without it, questions are not expanded.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path

from bot.language import cache
from bot.language.german import Analyzer, is_content, normalize

log = logging.getLogger(__name__)

DEFAULT_THESAURUS = "/usr/share/openthesaurus-de/openthesaurus.txt"
CACHE_NAME = "thesaurus.v1"  # the parsed thesaurus in the cache folder (bot.language.cache)
PARENTHESES_RE = re.compile(r"\([^)]*\)")
WORD_RE = re.compile(r"[^\W\d_]+")  # one word: multi-word and hyphenated entries are skipped


class Thesaurus:
    """Synsets of stems, and for each stem the synsets it belongs to."""

    def __init__(self, synsets: list[tuple[str, ...]]) -> None:
        self.synsets = self._synsets = synsets
        self._senses: dict[str, list[int]] = defaultdict(list)
        for number, synset in enumerate(synsets):
            for member in synset:
                self._senses[member].append(number)

    def __len__(self) -> int:
        return len(self._senses)

    def synonyms(self, stem: str) -> frozenset[str]:
        """The stems of the word's synonyms in all its senses (never the stem itself)."""
        numbers = self._senses.get(stem, ())
        return frozenset(m for n in numbers for m in self._synsets[n] if m != stem)

    @classmethod
    def from_lines(cls, lines: Iterable[str], stem: Callable[[str], str]) -> Thesaurus:
        """Parse OpenThesaurus text lines; `stem` maps a normalized word to an index term."""
        stems: dict[str, str] = {}
        synsets = []
        for line in lines:
            if line.startswith("#"):
                continue
            synset = set()
            for entry in PARENTHESES_RE.sub(" ", normalize(line)).split(";"):
                word = entry.strip()
                if WORD_RE.fullmatch(word) and is_content(word):
                    if word not in stems:
                        stems[word] = stem(word)
                    synset.add(stems[word])
            if len(synset) > 1:
                synsets.append(tuple(sorted(synset)))
        return cls(synsets)


def _parse(path: Path, stem: Callable[[str], str]) -> list[tuple[str, ...]]:
    with path.open(encoding="utf-8") as lines:
        return Thesaurus.from_lines(lines, stem).synsets


def load_thesaurus(
    path: Path | None, stem: Callable[[str], str], cache_dir: Path | None = None
) -> Thesaurus | None:
    """Load the thesaurus (parsed once, then from the cache); None and a log line if missing."""
    path = path or Path(DEFAULT_THESAURUS)
    try:
        synsets = cache.cached([path], cache_dir, CACHE_NAME, lambda: _parse(path, stem))
    except (OSError, UnicodeDecodeError) as exc:
        log.warning(
            "no thesaurus, questions are not expanded with synonyms (%s) — install it with "
            "`sudo apt-get install openthesaurus-de-text` or set NEWSBOT_THESAURUS", exc
        )
        return None
    thesaurus = Thesaurus([tuple(s) for s in synsets])
    log.info("thesaurus %s: %d words with synonyms", path, len(thesaurus))
    return thesaurus


@lru_cache(maxsize=4)
def default_thesaurus(
    path: str = DEFAULT_THESAURUS, cache_dir: str | None = None
) -> Thesaurus | None:
    """The thesaurus at `path`, loaded once per process (stems as `Analyzer.stem` makes them)."""
    return load_thesaurus(Path(path), Analyzer().stem, Path(cache_dir) if cache_dir else None)
