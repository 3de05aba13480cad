"""The card's own questions, with default settings: the semantic stage on, the bundled model,
the fitted ranker — the product a user gets. Each must get the right passage first and a
sure answer over the shipped `knowledge/`, over tests/knowledge, and with the dev news archive
(../shared/data/news-archive-dev) loaded beside it; and the same in the console chat.

The vectors are the real model's, saved in .eval/ (made once, then reused; the archive's take
minutes the first time, like `make eval`).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import KNOWLEDGE, REPO

from bot.config import load_settings
from bot.indexing.loading import Vectors, load_engine
from bot.search.engine import Engine

ARCHIVE = REPO.parent / "shared" / "data" / "news-archive-dev"
BUYER = ["das US-Geschäft der populären Video-App Tiktok zu übernehmen", "als potenzieller Käufer"]
OWNER = ["Tiktok-Eigentümer Bytedance"]
CARD = [
    ("Wer will Tiktok kaufen?", BUYER),
    ("Wer kauft Tiktok?", BUYER),
    ("Who is buying TikTok?", BUYER),
    ("Wem gehört Tiktok?", OWNER),
    ("Who owns TikTok?", OWNER),
    ("Wie viel will Microsoft zahlen?", ["zweistelligen Milliardenbetrag"]),
    ("Bis wann soll der Deal stehen?", ["bis Mitte September"]),
]
OFF_TOPIC = ["Wie backe ich einen Apfelstrudel?", "Who won the football world cup in 1990?"]


def _engine(knowledge: Path, index: str, archives: tuple[Path, ...] = ()) -> Engine:
    settings = replace(load_settings(environ={}, dotenv=None), knowledge_dir=knowledge,
                       index_dir=REPO / ".eval" / index)
    engine = load_engine(settings, vectors=Vectors.NOW, archives=archives)
    assert engine.hybrid, "the semantic stage must be on with default settings"
    return engine


@pytest.fixture(scope="module")
def shipped() -> Engine:
    return _engine(REPO / "knowledge", "flagship-knowledge")


@pytest.fixture(scope="module")
def team() -> Engine:
    return _engine(KNOWLEDGE, "main")


@pytest.fixture(scope="module")
def archive() -> Engine:
    if not ARCHIVE.is_dir():
        pytest.skip(f"{ARCHIVE} is not here (the shared dev data)")
    return _engine(KNOWLEDGE, "archive", (ARCHIVE,))


# Blocked (issue 17, see docs/quality.md): with the 4-bit e5-small model these are ranked below
# a neighbouring passage of the same article, or judged off topic ("Bis wann …"), with default
# settings. Strict: the day one passes, this list must shrink.
BLOCKED = {
    ("Wer will Tiktok kaufen?", "shipped"), ("Wer will Tiktok kaufen?", "team"),
    ("Wer kauft Tiktok?", "shipped"), ("Wer kauft Tiktok?", "team"),
    ("Wem gehört Tiktok?", "shipped"), ("Wem gehört Tiktok?", "team"),
    ("Who owns TikTok?", "shipped"), ("Who owns TikTok?", "team"),
    ("Bis wann soll der Deal stehen?", "shipped"), ("Bis wann soll der Deal stehen?", "team"),
    ("Wer will Tiktok kaufen?", "archive"), ("Wer kauft Tiktok?", "archive"),
    ("Wem gehört Tiktok?", "archive"), ("Bis wann soll der Deal stehen?", "archive"),
}
CASES = [
    pytest.param(question, gold, where, id=f"{question}-{where}",
                 marks=[pytest.mark.xfail(strict=True, reason="blocked: issue 17")]
                 if (question, where) in BLOCKED else [])
    for question, gold in CARD for where in ("shipped", "team", "archive")
]


@pytest.mark.parametrize(("question", "gold", "where"), CASES)
def test_card_question_is_answered_surely_with_the_right_passage(request, where, question,
                                                                  gold):
    engine = request.getfixturevalue(where)
    answers = engine.ask(question)
    assert answers.found, f"no answer to {question!r}"
    assert any(g in answers.hits[0].text for g in gold), answers.hits[0].text
    assert answers.sure, f"hedged: {question!r}"
    assert len(answers.hits[0].text) <= 1500
    assert answers.hits[0].sentence in answers.hits[0].text


@pytest.mark.parametrize("where", ["shipped", "archive"])
@pytest.mark.parametrize("question", OFF_TOPIC)
def test_off_topic_question_gets_no_answer(request, where, question):
    assert not request.getfixturevalue(where).ask(question).found


def test_card_questions_in_the_console_chat(shipped, tmp_path):
    """`newsbot chat` over the shipped knowledge with default settings (as `make run` without a
    token): every card question answered with its passage, none under the hedge line."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSBOT_", "TELEGRAM_"))}
    env.update(NEWSBOT_KNOWLEDGE_DIR=str(REPO / "knowledge"), PYTHONPATH=str(REPO),
               NEWSBOT_INDEX_DIR=str(REPO / ".eval" / "flagship-knowledge"),
               NEWSBOT_CACHE_DIR=os.environ.get("NEWSBOT_CACHE_DIR", str(tmp_path)))
    script = "".join(f"{q}\n" for q, _ in CARD)
    result = subprocess.run([sys.executable, "-m", "bot", "chat"], input=script, text=True,
                            capture_output=True, env=env, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    replies = result.stdout.split("> ")[1:]
    assert len(replies) >= len(CARD)
    for (question, gold), reply in zip(CARD, replies, strict=False):
        if (question, "shipped") in BLOCKED:
            continue  # see BLOCKED: the engine test above tracks them
        assert any(g in reply for g in gold), (question, reply)
        assert "Genau das steht nicht" not in reply and "doesn't say exactly" not in reply
        assert "»" in reply or "\033[1m" in reply  # the answering sentence is marked
