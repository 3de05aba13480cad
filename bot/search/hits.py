"""What a search returns: ranked passages with the scores that ranked them."""

from __future__ import annotations

from dataclasses import dataclass

from bot.knowledge.passages import Passage

Group = tuple[str, ...]  # index terms of which the best one counts (a word and its synonyms)
GAP = "\n\n[…]\n\n"  # between two shown passages that are not neighbours in their article


@dataclass(frozen=True)
class Hit:
    """A ranked passage with its score and the share of the question it covers; as an answer,
    it may show a second passage of the same article beside it (`shown`)."""

    passage: Passage
    score: float  # BM25 from the index; the fused score once the semantic stage ranked it
    coverage: float  # IDF-weighted share of the question's groups found in the passage
    id: int  # the passage's number in the index
    matched: int = 0  # how many of the question's groups the passage contains
    sentence: str = ""  # the sentence that answers best, once the engine picked it
    companion: Passage | None = None  # another passage of the article shown with this one

    @property
    def shown(self) -> tuple[Passage, ...]:
        """The passages shown as the answer, in their article's order."""
        if self.companion is None:
            return (self.passage,)
        return tuple(sorted((self.passage, self.companion), key=lambda p: p.position))

    @property
    def text(self) -> str:
        """The answer's text: the passage, or both passages in article order (neighbours as
        one paragraph apart, others with a gap mark between them)."""
        shown = self.shown
        if len(shown) == 1:
            return shown[0].text
        first, second = shown
        return first.text + ("\n\n" if second.position == first.position + 1 else GAP) \
            + second.text
