"""Follow the news: one round over the RSS and Atom feeds saves each new article once.

Each new item's page is downloaded (`bot.knowledge.web`) and its main text extracted
(`bot.knowledge.extract`); when the page fails or has no text, the feed's own summary serves if
it is substantial, else the item is tried again next round. Articles are saved as Markdown with
front matter under `<knowledge>/feeds/<host>/`; what a round remembers is in
`bot.knowledge.feedstate`. A known item is downloaded again only when its feed gives it a new
date, and then conditionally (ETag / Last-Modified). Feed content is untrusted: an item's link
must lead to the feed's own host or to a public address (`bot.knowledge.safety`). A round has
one deadline (ROUND_TIMEOUT); `WebClient.cancel` ends one in progress at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import feedparser

from bot.knowledge.extract import MIN_TEXT_CHARS, Page, extract_page, strip_html
from bot.knowledge.feedstate import (
    STATE_FILE,
    Item,
    article_text,
    load_state,
    new_path,
    stamp,
    write_atomically,
)
from bot.knowledge.links import normalise_url
from bot.knowledge.markup import escape_markdown
from bot.knowledge.safety import host_of
from bot.knowledge.web import FetchError, Response, WebClient, is_web_url
from bot.text import printable

__all__ = ["STATE_FILE", "Round", "fetch_round", "normalise_url", "run_round"]
log = logging.getLogger(__name__)
WORKERS = 4  # pages downloaded at once (and at most PER_HOST of them from one host)
ATTEMPTS = 12  # rounds a failed item is tried again even when its feed is unchanged
ROUND_TIMEOUT = 240.0  # seconds for a whole round (less than the shortest interval, 300 s)
FEED_TYPES = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"
HARMLESS = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)


@dataclass
class Round:
    """What one round did; `warnings` are one line each."""

    feeds: int = 0
    new: int = 0
    updated: int = 0
    known: int = 0
    failed: int = 0  # articles not saved this round (tried again later)
    failed_feeds: int = 0  # unreachable, malformed or empty
    unchanged_feeds: int = 0  # answered 304 Not Modified: nothing new, nothing read
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        """Whether the knowledge folder has new or changed articles."""
        return bool(self.new or self.updated)

    def summary(self) -> str:
        """One line: feeds (read, unchanged, failed), then articles (new, updated, already
        known, not saved) — two counts that cannot be mistaken for each other."""
        read = self.feeds - self.unchanged_feeds - self.failed_feeds
        feeds = f"{self.feeds} feed{'s' if self.feeds != 1 else ''}"
        return (f"{feeds} ({read} read, {self.unchanged_feeds} unchanged, {self.failed_feeds} "
                f"failed); articles: {self.new} new, {self.updated} updated, {self.known} "
                f"already known, {self.failed} not saved ({self.seconds:.1f} s)")

    def warn(self, message: str) -> None:
        """Record a one-line warning (the caller shows or logs them), printable as it is."""
        self.warnings.append(printable(message))


def fetch_round(folder: Path, feeds: tuple[str, ...] | list[str],
                client: WebClient | None = None, timeout: float = ROUND_TIMEOUT) -> Round:
    """One round over all feeds: save new and changed articles into `folder`. The round
    gives up after `timeout` seconds (what is done is kept); `client.cancel()` from another
    thread ends it at once."""
    started = time.monotonic()
    result = Round(feeds=len(feeds))
    state = load_state(folder)
    own = client is None
    client = client or WebClient()
    timer = threading.Timer(timeout, client.cancel,
                            [f"the round took longer than {timeout:.0f} s"])
    timer.daemon = True
    timer.start()
    try:
        items = _read_feeds(feeds, state, client, result)
        with ThreadPoolExecutor(WORKERS) as pool:
            downloads = list(pool.map(lambda item: _download(client, item), items))
        stopped = client.cancelled
        if stopped:
            result.warn(f"round cut short: {stopped}; the rest waits for the next round")
        for item, download in zip(items, downloads, strict=True):
            if stopped and download.page is None and download.problem == stopped:  # not tried
                state["pending"].setdefault(item.key, {"attempts": 0}).update(_pending(item))
                continue
            _store(folder, state, item, download, result)
    finally:
        timer.cancel()
        if own:
            client.close()
    folder.mkdir(parents=True, exist_ok=True)
    write_atomically(folder / STATE_FILE, json.dumps(state, ensure_ascii=False, indent=1))
    result.seconds = time.monotonic() - started
    return result


async def run_round(folder: Path, feeds: tuple[str, ...] | list[str]) -> Round:
    """`fetch_round` in a thread, for the running bot: cancelling the task that awaits it
    (the bot shutting down) ends the round's requests at once, so the thread ends in moments
    and the process can exit."""
    client = WebClient()

    def work() -> Round:
        with client:
            return fetch_round(folder, feeds, client)

    try:
        return await asyncio.to_thread(work)
    except asyncio.CancelledError:
        client.cancel("newsbot is stopping")
        raise


def _read_feeds(feeds: tuple[str, ...] | list[str], state: dict[str, Any], client: WebClient,
                result: Round) -> list[Item]:
    """The entries of all feeds that need downloading; known ones are counted."""
    items: dict[str, Item] = {}
    for feed_url in feeds:
        memo = state["feeds"].get(feed_url, {})
        try:
            response = client.get(feed_url, memo.get("etag"), memo.get("modified"), FEED_TYPES)
        except FetchError as exc:
            result.failed_feeds += 1
            reason = str(exc) if str(exc).startswith("HTTP ") else f"unreachable ({exc})"
            result.warn(f"feed {feed_url}: {reason}")
            continue
        if response.status == 304:
            result.unchanged_feeds += 1
            continue
        parsed = feedparser.parse(response.content, response_headers={
            "content-location": response.url, "content-type": response.content_type})
        problem = parsed.get("bozo_exception")
        if parsed.bozo and not isinstance(problem, HARMLESS) or not parsed.get("version"):
            result.failed_feeds += 1
            reason = str(problem or "not RSS or Atom").splitlines()[0][:120]
            got = f"; read the {len(parsed.entries)} items before it" if parsed.entries else ""
            result.warn(f"feed {feed_url}: malformed ({reason}){got}")
            if not parsed.entries:
                continue
        elif not parsed.entries:
            result.failed_feeds += 1
            result.warn(f"feed {feed_url}: empty (no items)")
        state["feeds"][feed_url] = {"etag": response.etag, "modified": response.last_modified}
        site = parsed.feed.get("title") or None
        for entry in parsed.entries:
            item = _item(entry, response.url, site, state, host_of(feed_url))
            if item is None or item.key in items or item.key in state["refused"]:
                continue
            known = item.known
            if known and item.updated and known.get("updated") == item.updated:
                result.known += 1  # the same date as when it was saved: no request at all
                continue
            items[item.key] = item
    for key, data in state["pending"].items():  # failed before: again, even behind a 304
        if key not in items and key not in state["items"]:
            items[key] = Item(key, **{k: v for k, v in data.items() if k != "attempts"},
                              known=None)
    return list(items.values())


def _item(entry: Any, base: str, site: str | None, state: dict[str, Any],
          own_host: str) -> Item | None:
    guid = entry.get("id") or None
    link = entry.get("link") or (guid if guid and is_web_url(guid) else None)
    if not link or not is_web_url(urljoin(base, link)):
        return None
    link = urljoin(base, link)
    key = state["ids"].get(guid) if guid else None
    key = key if isinstance(key, str) and key in state["items"] else normalise_url(link)
    content = entry.get("content") or []
    summaries = [c.get("value", "") for c in content] + [entry.get("summary", "")]
    summary = max((strip_html(s) for s in summaries), key=len, default="")
    published = stamp(dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed"))
    updated = stamp(dict.get(entry, "updated_parsed") or dict.get(entry, "published_parsed"))
    return Item(key, link, guid, entry.get("title") or None, summary,
                published[:10] if published else None, updated, site,
                state["items"].get(key), own_host)


@dataclass(frozen=True)
class Download:
    """An item's page, or (None) why not in one line; `unchanged`: 304, the stored one holds."""

    page: Page | None
    problem: str = ""
    response: Response | None = None
    unchanged: bool = False


def _download(client: WebClient, item: Item) -> Download:
    """The page, or why there is none — never raises."""
    known = item.known or {}
    try:
        response = client.get(item.link, known.get("etag"), known.get("modified"),
                              own_host=item.own_host)
    except FetchError as exc:
        return Download(None, str(exc))
    except Exception as exc:  # noqa: BLE001 — one odd page must not end the round
        return Download(None, f"{type(exc).__name__}: {exc}")
    if response.status == 304:
        return Download(None, "", response, unchanged=True)
    kind = response.content_type.split(";")[0].strip()
    if kind and kind not in ("text/html", "application/xhtml+xml"):
        return Download(None, f"not an HTML page ({kind})", response)
    page = extract_page(response.content, response.url)
    return Download(page, "" if page else "no article text in the page", response)


def _store(folder: Path, state: dict[str, Any], item: Item, download: Download,
           result: Round) -> None:
    page, response = download.page, download.response
    if download.problem.startswith("refused"):  # never again, and said once
        state["refused"][item.key] = download.problem
        state["pending"].pop(item.key, None)
        result.failed += 1
        result.warn(f"{item.link}: {download.problem}")
        return
    if download.unchanged or (page is None and item.known):  # stored; check next time
        result.known += 1
        if download.unchanged and item.known is not None:
            item.known["updated"] = item.updated  # the date it is known by from now on
        if not download.unchanged:
            log.info("%s: could not check it for changes: %s", printable(item.link),
                     download.problem)
        return
    if page is None and len(item.summary) >= MIN_TEXT_CHARS:
        page = Page(item.title, item.date, item.site, None, item.link,
                    escape_markdown(item.summary))
    if page is None:
        result.failed += 1
        pending = state["pending"].setdefault(item.key, {"attempts": 0})
        pending.update(_pending(item))
        pending["attempts"] += 1
        if pending["attempts"] >= ATTEMPTS:  # back only when its feed lists it anew
            del state["pending"][item.key]
        result.warn(f"{item.link}: {download.problem}; trying again next round")
        return
    state["pending"].pop(item.key, None)
    body = page.text.strip()
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    known = item.known
    if known and known.get("hash") == digest:
        result.known += 1
    else:
        path = folder / known["path"] if known else new_path(folder, item, page)
        write_atomically(path, article_text(item, page, body))
        if known:
            result.updated += 1
        else:
            result.new += 1
        known = {"path": path.relative_to(folder).as_posix()}
    known.update(hash=digest, updated=item.updated,
                 etag=response.etag if response else None,
                 modified=response.last_modified if response else None)
    state["items"][item.key] = known
    if item.guid:
        state["ids"][item.guid] = item.key
    if response is not None and (final := normalise_url(response.url)) != item.key:
        state["ids"].setdefault(final, item.key)


def _pending(item: Item) -> dict[str, Any]:
    return {k: v for k, v in asdict(item).items() if k not in ("key", "known")}
