"""What the question log keeps of one answer: the question, its outcome, the passage shown."""

from __future__ import annotations

from dataclasses import dataclass

from bot.replies.model import Outcome, Reply


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
    def of(cls, reply: Reply, rank: int | None = None) -> Asked:
        """What the reader sees of `reply` at `rank` (by default its first answer shown)."""
        rank = reply.first if rank is None else rank
        answer = reply.at(rank)
        return cls(reply.question, reply.language, reply.outcome, rank,
                   answer.source.title if answer else "", answer.text if answer else "")
