"""The running bot follows the feeds: a round at start and every interval in a thread, the
index reloaded only when something new arrived; reload skips bad files unless none is left."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.config import Settings
from bot.indexing.loading import load_engine
from bot.telegram.app import follow_feeds, reload_knowledge
from tests.feed_site import Site

KNOWLEDGE = Path(__file__).parent / "knowledge"
QUESTION = "Wie viele Fahrgäste soll die Seilbahn in Ulmenau befördern?"
SEILBAHN = ("Der Stadtrat von Ulmenau hat den Bau einer Seilbahn über den Fluss beschlossen. "
            "Die Seilbahn soll ab 2027 bis zu 3000 Fahrgäste pro Stunde befördern und rund 40 "
            "Millionen Euro kosten, teilte die Stadtverwaltung am Dienstag mit.")


@pytest.fixture
def app(tmp_path):
    folder = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, folder)
    settings = Settings(knowledge_dir=folder, cache_dir=tmp_path / "cache",
                        thesaurus=tmp_path / "none.txt", dictionary=tmp_path / "none.index")
    engine = load_engine(settings, with_dictionary=False)
    return SimpleNamespace(bot_data={"settings": settings, "engine": engine})


async def _until(condition, seconds: float = 30.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


async def test_reload_skips_a_bad_file_and_refuses_when_nothing_is_left(app):
    folder = app.bot_data["settings"].knowledge_dir
    (folder / "kaputt.txt").write_bytes(b"Gr\xf6\xdfe")
    reply = await reload_knowledge(app)
    assert reply.startswith("Reloaded: 4 articles") and "Skipped 1 file: kaputt.txt" in reply
    for path in folder.glob("*.txt"):
        path.write_bytes(b"Gr\xf6\xdfe")
    old = app.bot_data["engine"]
    reply = await reload_knowledge(app)
    assert reply.startswith("Reload failed, still serving the old index")
    assert app.bot_data["engine"] is old


async def test_the_bot_answers_about_an_item_added_after_start(app):
    site = Site().start()
    try:
        site.items = []
        site.publish()
        settings = app.bot_data["settings"]
        app.bot_data["settings"] = Settings(**{**settings.__dict__, "feeds": (
            site.url("/rss.xml"),), "feed_interval": 0.2})
        first = app.bot_data["engine"]
        assert not first.ask(QUESTION).found
        task = asyncio.create_task(follow_feeds(app))
        await _until(lambda: sum("rss.xml" in path for path, _ in site.requests) >= 2)
        assert app.bot_data["engine"] is first  # nothing new: no reload
        site.routes["/artikel/seilbahn"] = (200, {"Content-Type": "text/plain"}, b"")
        site.items = [{"title": "Seilbahn für Ulmenau", "path": "/artikel/seilbahn",
                       "pub": "Tue, 03 Jun 2025 10:00:00 +0200",
                       "updated": "2025-06-03T08:00:00Z", "summary": SEILBAHN}]
        site.publish()
        await _until(lambda: app.bot_data["engine"] is not first)
        task.cancel()
        answers = app.bot_data["engine"].ask(QUESTION)
        assert answers.found and "3000 Fahrgäste" in answers.hits[0].passage.text
        assert answers.hits[0].passage.url == site.url("/artikel/seilbahn")
    finally:
        site.stop()
