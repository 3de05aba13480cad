"""What a search returns: ranked passages with the scores that ranked them."""

from __future__ import annotations

from dataclasses import dataclass

from bot.knowledge.passages import Passage

Group = tuple[str, ...]  # index terms of which the best one counts (a word and its synonyms)


@dataclass(frozen=True)
class Hit:
    """A ranked passage with its score and the share of the question it covers."""

    passage: Passage
    score: float  # BM25 from the index; the fused score once the semantic stage ranked it
    coverage: float  # IDF-weighted share of the question's groups found in the passage
    id: int  # the passage's number in the index
    matched: int = 0  # how many of the question's groups the passage contains
    sentence: str = ""  # the sentence that answers best, once the engine picked it
