"""Follow the news: one round over the RSS and Atom feeds saves each new article once.

Each new item's page is downloaded (`bot.knowledge.web`) and its main text extracted
(`bot.knowledge.extract`); when the page fails or has no text, the feed's own summary serves if
it is substantial, else the item is tried again next round. Articles are saved as Markdown with
front matter under `<knowledge>/feeds/<host>/`. An item is known by its normalised link and its
guid, remembered in `<knowledge>/.newsbot-feeds.json` (hidden, written atomically) together with
the feeds' and pages' ETag / Last-Modified for conditional requests.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import logging
import os
import re
import time
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser

from bot.knowledge.extract import MIN_TEXT_CHARS, Page, extract_page, strip_html
from bot.knowledge.links import normalise_url
from bot.knowledge.markup import escape_markdown
from bot.knowledge.web import FetchError, Response, WebClient, is_web_url

log = logging.getLogger(__name__)
STATE_FILE = ".newsbot-feeds.json"
FEEDS_FOLDER = "feeds"
WORKERS = 4  # pages downloaded at once (and at most PER_HOST of them from one host)
ATTEMPTS = 12  # rounds a failed item is tried again even when its feed is unchanged
FEED_TYPES = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"



@dataclass
class Round:
    """What one round did; `warnings` are one line each."""

    feeds: int = 0
    new: int = 0
    updated: int = 0
    known: int = 0
    failed: int = 0
    failed_feeds: int = 0
    unchanged_feeds: int = 0  # answered 304 Not Modified: nothing new, nothing read
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        """Whether the knowledge folder has new or changed articles."""
        return bool(self.new or self.updated)

    def summary(self) -> str:
        """One line: new, updated, already known, failed."""
        feeds = f"{self.feeds} feed{'s' if self.feeds != 1 else ''}"
        notes = [f"{n} {what}" for n, what in ((self.unchanged_feeds, "unchanged"),
                                               (self.failed_feeds, "failed")) if n]
        broken = f" ({', '.join(notes)})" if notes else ""
        return (f"{feeds}{broken}: {self.new} new, {self.updated} updated, {self.known} already "
                f"known, {self.failed} failed ({self.seconds:.1f} s)")

    def warn(self, message: str) -> None:
        """Record a one-line warning (the caller shows or logs them)."""
        self.warnings.append(message)


@dataclass
class Item:
    """A feed entry worth downloading."""

    key: str
    link: str
    guid: str | None
    title: str | None
    summary: str
    date: str | None
    updated: str | None
    site: str | None
    known: dict[str, Any] | None


def load_state(folder: Path) -> dict[str, Any]:
    """The remembered feeds and items (empty when there is no readable state file)."""
    try:
        state = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        state = {}
    if not isinstance(state, dict):
        state = {}
    for key in ("feeds", "items", "ids", "pending"):
        if not isinstance(state.get(key), dict):
            state[key] = {}
    return state


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # hidden: never read as an article
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def fetch_round(folder: Path, feeds: tuple[str, ...] | list[str],
                client: WebClient | None = None) -> Round:
    """One round over all feeds: save new and changed articles into `folder`."""
    started = time.monotonic()
    result = Round(feeds=len(feeds))
    state = load_state(folder)
    own = client is None
    client = client or WebClient()
    try:
        items = _read_feeds(feeds, state, client, result)
        with ThreadPoolExecutor(WORKERS) as pool:
            pages = list(pool.map(lambda item: _download(client, item), items))
        for item, page in zip(items, pages, strict=True):
            _store(folder, state, item, page, result)
    finally:
        if own:
            client.close()
    folder.mkdir(parents=True, exist_ok=True)
    _write_atomically(folder / STATE_FILE, json.dumps(state, ensure_ascii=False, indent=1))
    result.seconds = time.monotonic() - started
    return result


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
            result.warn(f"feed {feed_url}: {exc}")
            continue
        if response.status == 304:
            result.unchanged_feeds += 1
            continue
        parsed = feedparser.parse(response.content, response_headers={
            "content-location": response.url, "content-type": response.content_type})
        if not parsed.entries and (parsed.bozo or not parsed.version):
            result.failed_feeds += 1
            reason = str(parsed.get("bozo_exception", "no entries")).splitlines()[0][:120]
            result.warn(f"feed {feed_url}: not a readable RSS or Atom feed ({reason})")
            continue
        state["feeds"][feed_url] = {"etag": response.etag, "modified": response.last_modified}
        site = parsed.feed.get("title") or None
        for entry in parsed.entries:
            item = _item(entry, response.url, site, state)
            if item is None or item.key in items:
                continue
            known = item.known
            if known and known.get("updated") == item.updated and not (
                known.get("etag") or known.get("modified")
            ):
                result.known += 1
                continue
            items[item.key] = item
    for key, data in state["pending"].items():  # failed before: again, even behind a 304
        if key not in items and key not in state["items"]:
            items[key] = Item(key, **{k: v for k, v in data.items() if k != "attempts"},
                              known=None)
    return list(items.values())


def _item(entry: Any, base: str, site: str | None, state: dict[str, Any]) -> Item | None:
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
    stamp = dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")
    date = time.strftime("%Y-%m-%d", time.gmtime(calendar.timegm(stamp))) if stamp else None
    return Item(key, link, guid, entry.get("title") or None, summary, date,
                dict.get(entry, "updated") or dict.get(entry, "published"), site,
                state["items"].get(key))


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
        response = client.get(item.link, known.get("etag"), known.get("modified"))
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
    if download.unchanged or (page is None and item.known):  # stored; check next time
        result.known += 1
        if not download.unchanged:
            log.info("%s: could not check it for changes: %s", item.link, download.problem)
        return
    if page is None and len(item.summary) >= MIN_TEXT_CHARS:
        page = Page(item.title, item.date, item.site, None, item.link,
                    escape_markdown(item.summary))
    if page is None:
        result.failed += 1
        pending = state["pending"].setdefault(item.key, {"attempts": 0})
        pending.update({k: v for k, v in asdict(item).items() if k not in ("key", "known")})
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
        path = folder / known["path"] if known else _new_path(folder, item, page)
        _write_atomically(path, _article_text(item, page, body))
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


def _article_text(item: Item, page: Page, body: str) -> str:
    fields = {"title": page.title or item.title, "date": page.date or item.date,
              "source": page.source or item.site, "url": normalise_url(item.link)}
    lines = [f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in fields.items() if v]
    return "---\n" + "\n".join(lines) + "\n---\n\n" + body + "\n"


def _new_path(folder: Path, item: Item, page: Page) -> Path:
    host = (urlsplit(item.link).hostname or "web").lower().removeprefix("www.")
    date = page.date or item.date or time.strftime("%Y-%m-%d")
    words = (page.title or item.title or "artikel").casefold()
    for umlaut, spelled in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        words = words.replace(umlaut, spelled)
    words = unicodedata.normalize("NFKD", words).encode("ascii", "ignore").decode()
    slug = "-".join(re.findall(r"[a-z0-9]+", words))[:60].rstrip("-") or "artikel"
    base = folder / FEEDS_FOLDER / _safe(host) / f"{_safe(date)}-{slug}"
    path, n = base.with_suffix(".md"), 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}.md")
    return path


def _safe(part: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "-", part).strip(".-") or "x"
