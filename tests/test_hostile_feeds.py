"""Hostile feeds (issue 21), from servers on 127.0.0.1: headers sent a byte at a time, links and
redirects to addresses that are not the feed's own and not public, malformed and empty feeds,
escape sequences in links; one deadline per request and per round; shutdown ends a round."""

from __future__ import annotations

import json
import socket
import threading

import pytest
from fake_botapi import FakeBotAPI
from test_e2e import TOKEN, BotProcess, bot_env

from bot.knowledge.feeds import STATE_FILE, Round, fetch_round
from bot.knowledge.safety import RefusedAddress, check_url, is_public
from bot.knowledge.web import FetchError, WebClient
from tests.feed_site import Site


class Dribbler:
    """A server that accepts and then sends its status line and headers one byte at a time,
    forever (until the client hangs up); `connected` is set at the first connection."""

    def __init__(self, pause: float = 0.1) -> None:
        self.pause, self.connected, self.stopping = pause, threading.Event(), threading.Event()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}/feed"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.connected.set()
            threading.Thread(target=self._dribble, args=(conn,), daemon=True).start()

    def _dribble(self, conn: socket.socket) -> None:
        with conn:
            conn.recv(4096)
            head = b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"a" * 10_000
            for byte in head:
                if self.stopping.wait(self.pause):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:  # the client hung up: what the deadline is for
                    return

    def stop(self) -> None:
        self.stopping.set()
        self.server.close()


@pytest.fixture
def dribbler():
    server = Dribbler()
    yield server
    server.stop()


@pytest.fixture
def inside():
    """An "internal" server that must never be asked: reached as localhost, not 127.0.0.1."""
    running = Site().start()
    running.routes["/secret"] = (200, {"Content-Type": "text/html"}, b"<p>secret</p>" * 100)
    yield running
    running.stop()


def _finishes(work, guard: float = 60.0):
    """Run `work` in a thread; its result or exception (the guard only stops a hung test)."""
    outcome: list = []
    thread = threading.Thread(target=lambda: outcome.append(_call(work)), daemon=True)
    thread.start()
    thread.join(guard)
    assert outcome, "the request never ended"
    return outcome[0]


def _call(work):
    try:
        return work()
    except Exception as exc:  # noqa: BLE001 — returned for the test to look at
        return exc


def test_headers_sent_a_byte_at_a_time_hit_the_request_deadline(dribbler):
    with WebClient(timeout=5, total_timeout=1) as client:  # each byte comes in time
        error = _finishes(lambda: client.get(dribbler.url))
    assert isinstance(error, FetchError) and "gave up after 1 s" in str(error)


def test_a_round_has_one_deadline_and_keeps_the_rest_for_later(dribbler, tmp_path):
    result = _finishes(lambda: fetch_round(tmp_path, [dribbler.url], timeout=1))
    assert isinstance(result, Round) and result.failed_feeds == 1
    assert any("round cut short: the round took longer than 1 s" in w for w in result.warnings)


def test_cancel_ends_a_request_in_flight(dribbler):
    with WebClient(timeout=5, total_timeout=600) as client:
        threading.Thread(target=lambda: dribbler.connected.wait(30) and client.cancel(),
                         daemon=True).start()
        error = _finishes(lambda: client.get(dribbler.url))
    assert isinstance(error, FetchError) and str(error) == "stopped"


@pytest.mark.parametrize(("address", "public"), [
    ("93.184.216.34", True), ("2a00:1450:4001:82a::200e", True), ("127.0.0.1", False),
    ("10.0.0.1", False), ("172.16.5.4", False), ("192.168.1.1", False), ("169.254.169.254", False),
    ("100.64.0.1", False), ("0.0.0.0", False), ("::1", False), ("fe80::1", False),
    ("fd00::1", False), ("::ffff:10.0.0.1", False), ("224.0.0.1", False), ("240.0.0.1", False),
])
def test_public_addresses(address, public):
    assert is_public(address) is public


def test_links_to_the_feeds_own_host_pass_others_must_be_public():
    check_url("http://127.0.0.1:8080/artikel", "127.0.0.1")  # the feed's own host
    check_url("http://intranet.local/x", None)  # the operator's own setting
    for url in ("http://10.0.0.1/admin", "http://localhost:1/x", "http://[::1]/x",
                "http://169.254.169.254/latest/meta-data/", "http://2130706433/x",
                "http://0x7f.1/x", "http://[::ffff:192.168.0.1]/x"):
        with pytest.raises(RefusedAddress, match="not a public address"):
            check_url(url, "news.example")


def test_item_links_and_redirects_to_internal_addresses_are_refused_once(site, inside, tmp_path):
    secret = f"http://localhost:{inside.server.server_port}/secret"
    site.items += [
        {"title": "Intern", "path": "/ignored", "pub": "Mon, 02 Jun 2025 12:00:00 +0200",
         "updated": "2025-06-02T10:00:00Z", "link": secret},
        {"title": "Umleitung", "path": "/artikel/umleitung", "pub": "Mon, 02 Jun 2025 13:00:00 "
         "+0200", "updated": "2025-06-02T11:00:00Z"},
        {"title": "Metadaten", "path": "/ignored2", "pub": "Mon, 02 Jun 2025 14:00:00 +0200",
         "updated": "2025-06-02T12:00:00Z", "link": "http://10.0.0.1/latest"},
    ]
    site.routes["/artikel/umleitung"] = (302, {"Location": secret}, b"")
    site.routes["/moved.xml"] = (302, {"Location": f"http://localhost:{inside.server.server_port}"
                                                   "/rss.xml"}, b"")
    site.publish()
    feeds = [site.url("/rss.xml"), site.url("/moved.xml")]
    with WebClient(timeout=2, total_timeout=10) as client:
        first = fetch_round(tmp_path, feeds, client)
        refused = [w for w in first.warnings if "refused" in w]
        assert len(refused) == 4, first.warnings  # the link, the redirect, 10.0.0.1, the feed
        assert any(w.startswith(secret) for w in refused)
        assert any("umleitung" in w and "localhost is not a public address" in w for w in refused)
        assert all("\x1b" not in w for w in first.warnings)
        assert not inside.requests  # never asked
        assert first.new == 3  # the feed's own host (127.0.0.1) still works
        site.routes["/rss.xml"] = (200, {}, site.routes["/rss.xml"][2] + b" ")  # read again
        second = fetch_round(tmp_path, feeds, client)
    assert len([w for w in second.warnings if "refused" in w]) == 1  # the feed URL's redirect
    assert not inside.requests
    state = json.loads((tmp_path / STATE_FILE).read_text(encoding="utf-8"))
    assert len(state["refused"]) == 3


@pytest.mark.parametrize(("body", "reason"), [
    (b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><title>A',
     "malformed"),
    (b'<rss version="2.0"><channel><title>T</title></channel></rss>', "empty (no items)"),
    (b"<html><body>Hallo</body></html>", "malformed"),
])
def test_a_broken_feed_is_named_once_with_its_reason(site, tmp_path, body, reason):
    site.routes["/bad.xml"] = (200, {"Content-Type": "application/rss+xml"}, body)
    result = fetch_round(tmp_path, [site.url("/bad.xml")])
    assert result.failed_feeds == 1 and len(result.warnings) == 1
    assert result.warnings[0].startswith(f"feed {site.url('/bad.xml')}: {reason}")
    assert "1 feed (0 read, 0 unchanged, 1 failed); articles: 0 new" in result.summary()


def test_rss_and_atom_of_one_site_download_no_page_again(site, tmp_path):
    feeds = [site.url("/rss.xml"), site.url("/atom.xml")]
    fetch_round(tmp_path, feeds)
    for path in ("/rss.xml", "/atom.xml"):  # both feeds change (new ETags), the items do not
        site.routes[path] = (200, site.routes[path][1], site.routes[path][2] + b"\n")
    site.requests.clear()
    again = fetch_round(tmp_path, feeds)
    pages = [p for p, _ in site.requests if p.startswith("/artikel/")]
    assert all(p.startswith("/artikel/kurz") for p in pages), pages  # only the pending one
    assert (again.new, again.updated) == (0, 0)


def test_escape_sequences_never_reach_a_warning():
    result = Round()
    result.warn("http://x/\x1b]0;title\x07\x1b[2J: failed")
    assert result.warnings == ["http://x/ ]0;title  [2J: failed"]


def test_sigterm_ends_the_bot_within_seconds_during_a_stuck_feed_round(tmp_path, dribbler,
                                                                      knowledge_copy):
    with FakeBotAPI(TOKEN) as api:
        env = bot_env(tmp_path, tmp_path / "cache", api.base_url, NEWSBOT_FEEDS=dribbler.url,
                      NEWSBOT_KNOWLEDGE_DIR=str(knowledge_copy))
        bot = BotProcess(api, env, tmp_path).start()
        assert dribbler.connected.wait(60)  # the round is stuck in the headers now
        api.message("Wer will Tiktok kaufen?", user_id=71)
        api.wait_for("sendMessage", timeout=30)  # and the bot answers meanwhile
        code, _ = bot.terminate(timeout=15)
    assert code == 0 and "Traceback" not in bot.output()

