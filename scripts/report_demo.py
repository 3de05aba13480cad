"""A demo question log for the report's screenshot (docs/report.png): the team's German
questions (tests/questions.jsonl) asked over two weeks through the engine over tests/knowledge
(BM25 alone), each answer's outcome as the engine gives it; hedged answers and votes made up.

    .venv/bin/python scripts/report_demo.py /tmp/demo-state
    NEWSBOT_STATE_DIR=/tmp/demo-state .venv/bin/newsbot report --days 14 --html /tmp/report.html
    chromium --headless --no-sandbox --hide-scrollbars --window-size=900,860 \\
        --screenshot=docs/report.png file:///tmp/report.html
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

from bot.feedback.asked import Asked
from bot.feedback.store import DAY, QuestionLog
from bot.indexing.build import build_engine_from_folder
from bot.replies import Outcome, build

REPO = Path(__file__).resolve().parents[1]


def main(folder: Path) -> None:
    """Fill `folder` with the demo log (a fixed seed: the same log each time)."""
    engine = build_engine_from_folder(REPO / "tests" / "knowledge")
    lines = (REPO / "tests" / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    questions = [item["q"] for item in map(json.loads, filter(str.strip, lines))
                 if item.get("lang") == "de"]
    chance = random.Random(20)
    now = [time.time()]
    log = QuestionLog(folder, clock=lambda: now[0])
    for number in range(1, 400):
        days_ago = chance.random() ** 1.5 * 14  # busier lately
        now[0] = time.time() - days_ago * DAY
        asked = Asked.of(build(engine.ask(chance.choice(questions), k=3)))
        if asked.outcome is Outcome.SURE and chance.random() < 0.15:  # as a hedged one would
            asked = Asked(asked.question, asked.language, Outcome.HEDGED, 0, asked.article,
                          asked.passage)
        reader = chance.randrange(60)
        log.answered(asked, chance.choice(["private", "private", "group"]), reader, number,
                     reader)
        if asked.outcome is not Outcome.NONE and chance.random() < 0.3:
            log.vote(reader, number, reader, 1 if chance.random() < 0.75 else -1)
    log.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
