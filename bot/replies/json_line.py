"""A reply as one JSON line: the `ask --json` contract (keys and meaning stay as they are)."""

from __future__ import annotations

import json

from bot.replies.model import Reply


def json_line(reply: Reply) -> str:
    """Exactly one line for a question: the question, its language, whether the best answer is
    sure (false also for none), and each answer with its sentence, score and source."""
    return json.dumps(
        {
            "question": reply.question,
            "language": reply.language,
            "sure": reply.sure,
            "answers": [
                {
                    "text": a.text,
                    "sentence": a.sentence,
                    "score": round(a.score, 4),
                    "article": a.source.article,
                    "title": a.source.title,
                    "date": a.source.date,
                    "dateline": a.source.dateline,
                    "passage": a.source.passage,
                    "passages": list(a.source.passages),
                    "url": a.source.url,
                }
                for a in reply.answers
            ],
        },
        ensure_ascii=False,
    )
