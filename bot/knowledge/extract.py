"""The main text of a web page and its metadata, without menus, banners and footers.

A thin wrapper around trafilatura, shared by `newsbot fetch` (downloaded pages) and the `.html`
files of the knowledge folder. The text comes back as Markdown (headings kept as `## …`).
"""

from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass

import trafilatura

log = logging.getLogger(__name__)
logging.getLogger("trafilatura").setLevel(logging.CRITICAL)  # it logs every odd page
logging.getLogger("htmldate").setLevel(logging.CRITICAL)
TAG_RE = re.compile(r"<[^>]*>")
MIN_TEXT_CHARS = 200  # less is a menu, a teaser or an error page, not an article


@dataclass(frozen=True)
class Page:
    """What a page says: its title, date (YYYY-MM-DD), site name, author and text (Markdown)."""

    title: str | None
    date: str | None
    source: str | None
    author: str | None
    url: str | None
    text: str


def extract_page(document: str | bytes, url: str | None = None) -> Page | None:
    """The article in an HTML document, or None when it has no article text."""
    try:
        meta = trafilatura.bare_extraction(
            document, url=url, with_metadata=True, favor_precision=True, include_comments=False,
            include_tables=False,
        )
        text = trafilatura.extract(
            document, url=url, output_format="markdown", include_formatting=True,
            favor_precision=True, include_comments=False, include_tables=False,
            include_links=False, include_images=False,
        )
    except Exception as exc:  # noqa: BLE001 — a page that breaks the parser is a skipped page
        log.debug("extraction failed for %s: %s", url, exc)
        return None
    if not text or len(strip_html(text)) < MIN_TEXT_CHARS:
        return None
    info = meta.as_dict() if meta is not None and hasattr(meta, "as_dict") else (meta or {})
    title = info.get("title") or None
    body = text.strip()
    if title:  # trafilatura often repeats the headline as the first line
        first, _, rest = body.partition("\n")
        if first.lstrip("# ").strip() == title.strip() and rest.strip():
            body = rest.strip()
    return Page(
        title=title, date=info.get("date") or None,
        source=info.get("sitename") or info.get("hostname") or None,
        author=info.get("author") or None, url=info.get("url") or url, text=body,
    )


def strip_html(fragment: str) -> str:
    """Plain text of a feed's summary or content: tags removed, entities decoded, paragraphs
    (block ends and blank lines) kept as blank lines."""
    fragment = re.sub(r"(?i)</p\s*>|<br\s*/?>|</div\s*>|</li\s*>|</h\d\s*>", "\n\n", fragment)
    text = html.unescape(TAG_RE.sub(" ", fragment))
    blocks = (" ".join(block.split()) for block in re.split(r"\n\s*\n", text))
    return "\n\n".join(block for block in blocks if block)
