"""What the feed rounds remember and write: item identity, the state file, article files.

An item is known by its normalised link and its guid, remembered in
`<knowledge>/.newsbot-feeds.json` (hidden, written atomically) together with the feeds' and
pages' ETag / Last-Modified for conditional requests and each item's date, normalised (UTC,
ISO 8601) so that RSS and Atom listing the same article agree on it.
"""

from __future__ import annotations

import calendar
import json
import os
import re
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.knowledge.extract import Page
from bot.knowledge.links import normalise_url

STATE_FILE = ".newsbot-feeds.json"
FEEDS_FOLDER = "feeds"


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
    own_host: str = ""  # the feed's host: the link may lead there, or to a public address


def stamp(parsed: time.struct_time | None) -> str | None:
    """A feed's parsed date (UTC) as one ISO 8601 string, whatever format the feed wrote."""
    if not parsed:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(calendar.timegm(parsed)))


def load_state(folder: Path) -> dict[str, Any]:
    """The remembered feeds and items (empty when there is no readable state file)."""
    try:
        state = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        state = {}
    if not isinstance(state, dict):
        state = {}
    for key in ("feeds", "items", "ids", "pending", "refused"):
        if not isinstance(state.get(key), dict):
            state[key] = {}
    return state


def write_atomically(path: Path, text: str) -> None:
    """Write a file whole or not at all (a hidden temporary file renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # hidden: never read as an article
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def article_text(item: Item, page: Page, body: str) -> str:
    fields = {"title": page.title or item.title, "date": page.date or item.date,
              "source": page.source or item.site, "url": normalise_url(item.link)}
    lines = [f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in fields.items() if v]
    return "---\n" + "\n".join(lines) + "\n---\n\n" + body + "\n"


def new_path(folder: Path, item: Item, page: Page) -> Path:
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
