"""The running bot follows the feeds: a round at start and every interval in a thread, the
index reloaded only when something new arrived; reload skips bad files unless none is left."""

from __future__ import annotations

import asyncio
import shutil
import time
from dataclasses import replace
from pathlib import Path

import pytest

from bot.config import Settings
from bot.indexing.loading import load_engine
from bot.indexing.storage import is_current
from bot.telegram.app import build_application, post_shutdown
from bot.telegram.upkeep import reload_knowledge, schedule_feeds
from tests.feed_site import Site

KNOWLEDGE = Path(__file__).parent / "knowledge"
QUESTION = "Wie viele Fahrgäste soll die Seilbahn in Ulmenau befördern?"
SEILBAHN = ("Der Stadtrat von Ulmenau hat den Bau einer Seilbahn über den Fluss beschlossen. "
            "Die Seilbahn soll ab 2027 bis zu 3000 Fahrgäste pro Stunde befördern und rund 40 "
            "Millionen Euro kosten, teilte die Stadtverwaltung am Dienstag mit.")


TOKEN = "123456789:AAHfollowingTESTtokenFollowingTest01"


@pytest.fixture
async def app(tmp_path, api):
    """The real Application (typed bot_data), talking to the fake Bot API; not polling."""
    folder = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, folder)
    settings = Settings(token=TOKEN, base_url=api.base_url, knowledge_dir=folder,
                        cache_dir=tmp_path / "cache", thesaurus=tmp_path / "none.txt",
                        dictionary=tmp_path / "none.index")
    application = build_application(settings, load_engine(settings, with_dictionary=False))
    async with application:
        yield application
        if application.running:  # a test that failed before stopping it
            await application.stop()


async def _until(condition, seconds: float = 30.0) -> None:
    """Wait until the condition holds, at most `seconds` (a bound, not a pause to wait out)."""
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


async def test_reload_skips_a_bad_file_and_refuses_when_nothing_is_left(app):
    folder = app.bot_data.settings.knowledge_dir
    (folder / "kaputt.txt").write_bytes(b"Gr\xf6\xdfe")
    reply = await reload_knowledge(app)
    assert reply.startswith("Reloaded: 4 articles") and "Skipped 1 file: kaputt.txt" in reply
    for path in folder.glob("*.txt"):
        path.write_bytes(b"Gr\xf6\xdfe")
    old = app.bot_data.engine
    reply = await reload_knowledge(app)
    assert reply.startswith("Reload failed, still serving the old index")
    assert app.bot_data.engine is old


async def test_the_bot_answers_about_an_item_added_after_start(app):
    site = Site().start()
    try:
        site.items = []
        site.publish()
        app.bot_data.settings = replace(app.bot_data.settings, feeds=(site.url("/rss.xml"),),
                                        feed_interval=0.2)
        first = app.bot_data.engine
        assert not first.ask(QUESTION).found
        schedule_feeds(app)  # in post_init, as run_polling does: before the JobQueue starts
        await app.start()  # the JobQueue runs the rounds, the first at once
        await _until(lambda: sum("rss.xml" in path for path, _ in site.requests) >= 2)
        assert app.bot_data.engine is first  # nothing new: no reload
        site.routes["/artikel/seilbahn"] = (200, {"Content-Type": "text/plain"}, b"")
        site.items = [{"title": "Seilbahn für Ulmenau", "path": "/artikel/seilbahn",
                       "pub": "Tue, 03 Jun 2025 10:00:00 +0200",
                       "updated": "2025-06-03T08:00:00Z", "summary": SEILBAHN}]
        site.publish()
        await _until(lambda: app.bot_data.engine is not first)
        await app.stop()  # as run_polling ends: the JobQueue stops, then post_shutdown runs
        await post_shutdown(app)
        assert app.bot_data.feeds is None and not app.job_queue.jobs()
        answers = app.bot_data.engine.ask(QUESTION)
        assert answers.found and "3000 Fahrgäste" in answers.hits[0].passage.text
        assert answers.hits[0].passage.url == site.url("/artikel/seilbahn")
        # the round saved the index, so the next start loads it instead of building it
        assert is_current(app.bot_data.settings.knowledge_dir,
                          app.bot_data.settings.saved_index_dir)
    finally:
        site.stop()


def test_newsbot_run_follows_the_feeds_and_stops_cleanly(tmp_path, api):
    """The real process: the first round runs on the JobQueue at start, saves the three new
    articles and the index, reloads; SIGTERM then ends it with exit 0."""
    from test_e2e import BotProcess, bot_env

    site = Site().start()
    try:
        home = tmp_path / "home"
        knowledge = home / "knowledge"
        shutil.copytree(KNOWLEDGE, knowledge)
        env = bot_env(home, tmp_path / "cache", api.base_url, token=TOKEN,
                      NEWSBOT_KNOWLEDGE_DIR=str(knowledge), NEWSBOT_LOG_LEVEL="INFO",
                      NEWSBOT_INDEX_DIR=str(home / "index"), NEWSBOT_DICTIONARY="/none",
                      NEWSBOT_THESAURUS="/none",
                      NEWSBOT_FEEDS=site.url("/rss.xml"), NEWSBOT_FEED_INTERVAL="300")
        process = BotProcess(api, env, home)
        process.start()
        for _ in range(600):  # at most 30 s for the round and its reload
            if "reloaded: " in process.output() or process.proc.poll() is not None:
                break
            time.sleep(0.05)
        log = process.output()
        assert "feeds: 1 feed (1 read, 0 unchanged, 0 failed); articles: 3 new" in log, log[-3000:]
        assert "reloaded: 7 articles" in log, log[-3000:]
        assert is_current(knowledge, home / "index")  # saved, not only built in memory
        code, _ = process.terminate()
        assert code == 0 and "bye" in process.output()
        assert "Traceback" not in process.output()
    finally:
        site.stop()
