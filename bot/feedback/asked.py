"""What the question log keeps of one answer: the question, its outcome, the passage shown."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    """How an answer went: a sure answer, a hedged ("not sure") one, or none."""

    SURE = "sure"
    HEDGED = "hedged"
    NONE = "none"


def outcome(answers: Any) -> Outcome:
    """The outcome of the engine's `Answers` (hits and, once it has one, its `sure` flag)."""
    if not answers.hits:
        return Outcome.NONE
    return Outcome.SURE if getattr(answers, "sure", True) else Outcome.HEDGED


@dataclass(frozen=True)
class Asked:
    """One answer as shown: the question, its outcome, and the passage (rank 0: the first)."""

    question: str
    language: str
    outcome: Outcome
    rank: int = 0
    article: str = ""  # the shown passage's article title
    passage: str = ""  # the shown passage's text

    @classmethod
    def of(cls, answers: Any, rank: int = 0) -> Asked:
        """What the reader sees of `answers` at `rank`."""
        hit = answers.hits[rank] if rank < len(answers.hits) else None
        return cls(answers.question, answers.language, outcome(answers), rank,
                   hit.passage.title if hit else "", hit.passage.text if hit else "")
