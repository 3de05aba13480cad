"""The running bot follows the feeds: a round at start and every interval in a thread, the
index reloaded only when something new arrived; reload skips bad files unless none is left."""

from __future__ import annotations

import asyncio
import shutil
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
        await app.start()  # the JobQueue runs the rounds
        schedule_feeds(app)
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
