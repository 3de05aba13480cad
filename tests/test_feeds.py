"""Feeds into the knowledge base (issue #13): a local news site on 127.0.0.1, never the web.

Articles are stored once each (RSS and Atom of one site, listed again), without boilerplate,
with their metadata and link; a refetch adds nothing; a changed page replaces its file; broken
feeds and pages are warnings; `newsbot fetch` prints one summary line and exits 0 (2 without a
feed configured).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.indexing.storage import is_current
from bot.knowledge.articles import load_articles
from bot.knowledge.feeds import STATE_FILE, fetch_round, normalise_url
from bot.knowledge.passages import article_passages
from bot.knowledge.web import FetchError, WebClient
from tests.feed_site import BOILERPLATE_WORDS, HITZE, STREIK, SUMMARY_ONLY, page

REPO = Path(__file__).resolve().parents[1]
BROKEN = ["/nothing.xml", "/broken.xml", "/huge.xml", "/bomb.xml", "/loop", "/slow"]


@pytest.fixture
def client():
    with WebClient(timeout=0.5, total_timeout=5) as web:
        yield web


def _feeds(site, *paths):
    return [site.url(p) for p in (paths or ("/rss.xml", "/atom.xml"))]


def _stored(folder: Path) -> list[Path]:
    return sorted((folder / "feeds").rglob("*.md"))


def test_normalised_links():
    assert normalise_url("HTTPS://Www.Example.DE:443/a/b?utm_source=x&id=5&fbclid=1#top") == \
        "https://www.example.de/a/b?id=5"
    assert normalise_url("http://example.de") == "http://example.de/"
    assert normalise_url("http://example.de:8080/x") == "http://example.de:8080/x"


def test_rss_and_atom_items_are_stored_once_with_metadata(site, client, tmp_path):
    result = fetch_round(tmp_path, _feeds(site), client)
    assert (result.new, result.failed) == (3, 1)  # "kurz" has no text and a short summary
    assert len(_stored(tmp_path)) == 3
    articles = {a.title: a for a in load_articles(tmp_path)}
    assert set(articles) == {"Neuer Bahnstreik am Donnerstag", "Hitzerekord in Ihringen",
                             "Seilbahn für Ulmenau"}
    streik = articles["Neuer Bahnstreik am Donnerstag"]
    assert streik.url == site.url("/artikel/bahnstreik")  # no utm_*, no fragment
    assert (streik.source, streik.date) == ("Tagesblatt", "2025-06-02")
    assert streik.paragraphs == STREIK
    assert articles["Hitzerekord in Ihringen"].paragraphs == HITZE
    # The page was a 404: its long feed summary serves instead.
    assert articles["Seilbahn für Ulmenau"].paragraphs == (SUMMARY_ONLY,)
    passages = " ".join(p.text for a in articles.values() for p in article_passages(a))
    for word in BOILERPLATE_WORDS:
        assert word not in passages
    assert any("kurz" in w and "next round" in w for w in result.warnings)


def test_a_refetch_adds_nothing_and_the_failed_item_is_retried(site, client, tmp_path):
    fetch_round(tmp_path, _feeds(site), client)
    before = {p: p.read_bytes() for p in _stored(tmp_path)}
    site.requests.clear()
    again = fetch_round(tmp_path, _feeds(site), client)
    assert (again.new, again.updated, again.unchanged_feeds) == (0, 0, 2)
    assert {p: p.read_bytes() for p in _stored(tmp_path)} == before
    assert all("If-None-Match" in h for path, h in site.requests if path.endswith(".xml"))
    # The item that failed is tried again although both feeds answered 304.
    assert again.failed == 1 and any(p.startswith("/artikel/kurz") for p, _ in site.requests)
    site.routes["/artikel/kurz"] = (200, {"Content-Type": "text/html"},
                                    page("Kurzmeldung", STREIK[::-1]))
    assert fetch_round(tmp_path, _feeds(site), client).new == 1
    del site.routes["/artikel/kurz"]  # gone again: the stored article stays
    before = {p: p.read_bytes() for p in _stored(tmp_path)}
    site.publish()  # the same items listed again (the feed's ETag is unchanged: 304)
    site.routes["/rss.xml"] = (200, {}, site.routes["/rss.xml"][2] + b"\n")  # a new ETag
    third = fetch_round(tmp_path, _feeds(site), client)
    assert (third.new, third.updated, third.failed) == (0, 0, 0)
    assert third.known == 4
    assert {p: p.read_bytes() for p in _stored(tmp_path)} == before
    state = json.loads((tmp_path / STATE_FILE).read_text(encoding="utf-8"))
    assert len(state["items"]) == 4 and not state["pending"]


def test_a_changed_page_replaces_its_file(site, client, tmp_path):
    fetch_round(tmp_path, _feeds(site), client)
    [path] = [p for p in _stored(tmp_path) if "bahnstreik" in p.name]
    changed = ("Der Streik ist abgesagt: Bahn und Gewerkschaft haben sich in der Nacht zum "
               "Mittwoch auf einen Tarifvertrag geeinigt, teilten beide Seiten in Berlin mit. "
               "Die Züge fahren wieder nach Plan, Pendler können aufatmen.",)
    site.routes["/artikel/bahnstreik"] = (200, {"Content-Type": "text/html"},
                                          page("Neuer Bahnstreik am Donnerstag", changed))
    site.items[0]["updated"] = "2025-06-03T06:00:00Z"
    site.items[0]["pub"] = "Tue, 03 Jun 2025 08:00:00 +0200"
    site.publish()
    result = fetch_round(tmp_path, _feeds(site), client)
    assert (result.new, result.updated) == (0, 1)
    assert [p for p in _stored(tmp_path) if "bahnstreik" in p.name] == [path]
    text = path.read_text(encoding="utf-8")
    assert "Tarifvertrag" in text and "Lokführergewerkschaft" not in text
    assert len(_stored(tmp_path)) == 3


def test_broken_feeds_are_warnings_and_keep_stored_articles(site, client, tmp_path):
    fetch_round(tmp_path, _feeds(site), client)
    before = {p: p.read_bytes() for p in _stored(tmp_path)}
    site.routes["/rss.xml"] = (500, {}, b"oops")
    site.routes["/atom.xml"] = (200, {"Content-Type": "application/atom+xml"}, b"<feed><entry")
    result = fetch_round(tmp_path, _feeds(site, "/rss.xml", "/atom.xml", *BROKEN), client)
    assert result.failed_feeds == 8 and result.new == 0
    assert len([w for w in result.warnings if w.startswith("feed ")]) == 8
    assert all("\n" not in w for w in result.warnings)
    joined = "\n".join(result.warnings)
    for path in BROKEN:
        assert site.url(path) in joined
    assert "redirect" in joined and "larger than" in joined and "in time" in joined
    assert {p: p.read_bytes() for p in _stored(tmp_path)} == before


def test_client_caps_size_of_a_gzip_bomb(site):
    with WebClient(max_bytes=1_000_000) as web, pytest.raises(FetchError, match="larger"):
        web.get(site.url("/bomb.xml"))
    with WebClient() as web, pytest.raises(FetchError, match="http"):
        web.get("file:///etc/passwd")


def test_client_says_who_it_is(site, client):
    client.get(site.url("/rss.xml"))
    agent = site.requests[-1][1]["User-Agent"]
    assert agent.startswith("newsbot/")


def test_non_html_pages_fall_back_or_fail(site, client, tmp_path):
    site.routes["/artikel/hitze"] = (200, {"Content-Type": "application/pdf"}, b"%PDF-1.4")
    result = fetch_round(tmp_path, _feeds(site, "/rss.xml"), client)
    assert result.new == 2 and result.failed == 2
    assert any("not an HTML page" in w for w in result.warnings)


# --- the command line ---------------------------------------------------------------------
def _run(env, *args):
    return subprocess.run([sys.executable, "-m", "bot", *args], env=env, capture_output=True,
                          text=True, timeout=60, cwd=env["HOME"])


@pytest.fixture
def env(tmp_path):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    clean.update(HOME=str(tmp_path), PYTHONPATH=str(REPO), PYTHONIOENCODING="utf-8",
                 NEWSBOT_KNOWLEDGE_DIR=str(tmp_path / "knowledge"))
    return clean


def test_fetch_command_summary_and_exit_codes(site, env, tmp_path):
    env["NEWSBOT_FEEDS"] = f"{site.url('/rss.xml')}, {site.url('/atom.xml')} {site.url('/x.xml')}"
    done = _run(env, "fetch")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines() == [done.stdout.strip()]
    assert "3 feeds (2 read, 0 unchanged, 1 failed); articles: 3 new, 0 updated, " \
        "0 already known, 1 not saved (" in done.stdout
    assert f"feed {site.url('/x.xml')}: HTTP 404" in done.stderr
    assert len(_stored(tmp_path / "knowledge")) == 3
    # the saved index is brought up to date: the next start loads it instead of building
    assert is_current(tmp_path / "knowledge", tmp_path / "knowledge" / ".newsbot")
    assert "saved index of" in done.stderr
    again = _run(env, "fetch", "--knowledge", str(tmp_path / "knowledge"))
    assert again.returncode == 0 and "0 new" in again.stdout
    env["NEWSBOT_FEEDS"] = ""
    none = _run(env, "fetch")
    assert none.returncode == 2
    assert none.stderr.count("\n") == 1 and "NEWSBOT_FEEDS" in none.stderr
    env.update(NEWSBOT_FEEDS=site.url("/rss.xml"), NEWSBOT_FEED_INTERVAL="10")
    bad = _run(env, "fetch")
    assert bad.returncode == 2 and "NEWSBOT_FEED_INTERVAL" in bad.stderr
