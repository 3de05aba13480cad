"""Answers as a reader sees them: the best passage, with a second passage of the same article
when the ranker puts it close behind (news articles are long paragraphs cut at ~700
characters; the answer often sits across the cut), at most MAX_ANSWER_CHARS in all; and the
sentence that answers, marked (bot/search/sentence.py).

How close "close behind" is (`Ranker.companion_depth`) is fitted by `make fit`.
"""

from __future__ import annotations

from collections.abc import Sequence

MAX_ANSWER_CHARS = 1500  # what a reader takes in at a glance


def groups_of(order: Sequence[int], articles: Sequence[int], lengths: Sequence[int],
              depth: int, k: int) -> list[tuple[int, int | None]]:
    """Up to k answers from the candidates in `order` (places into `articles`/`lengths`):
    each the next unused candidate, with the first unused candidate of the same article
    among the next `depth` places after it (when both fit in MAX_ANSWER_CHARS)."""
    answers: list[tuple[int, int | None]] = []
    used: set[int] = set()
    for n, at in enumerate(order):
        if len(answers) >= k:
            break
        if at in used:
            continue
        used.add(at)
        companion = next((other for other in order[n + 1 : n + 1 + depth]
                          if other not in used and articles[other] == articles[at]), None)
        if companion is not None and lengths[at] + lengths[companion] > MAX_ANSWER_CHARS:
            companion = None
        if companion is not None:
            used.add(companion)
        answers.append((at, companion))
    return answers
