"""What the question log keeps of one answer: the question, its outcome, the passage shown."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.search.engine import Answers


class Outcome(StrEnum):
    """How an answer went: a sure answer, a hedged ("not sure") one, or none."""

    SURE = "sure"
    HEDGED = "hedged"
    NONE = "none"


def outcome(answers: Answers) -> Outcome:
    """The outcome of the engine's `Answers`: none found, found and sure, or hedged."""
    if not answers.found:
        return Outcome.NONE
    return Outcome.HEDGED if answers.hedged else Outcome.SURE


@dataclass(frozen=True)
class Asked:
    """One answer as shown: the question, its outcome, and the passage (rank 0: the first)."""

    question: str
    language: str
    outcome: Outcome
    rank: int = 0
    article: str = ""  # the shown passage's article title
    passage: str = ""  # the answer's text as shown (one passage, or two of one article)

    @classmethod
    def of(cls, answers: Answers, rank: int = 0) -> Asked:
        """What the reader sees of `answers` at `rank`."""
        hit = answers.hits[rank] if rank < len(answers.hits) else None
        return cls(answers.question, answers.language, outcome(answers), rank,
                   hit.passage.title if hit else "", hit.text if hit else "")
