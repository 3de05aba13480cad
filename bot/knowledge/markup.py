"""Markdown and HTML articles → metadata and plain-text paragraphs.

Markdown is parsed by markdown-it-py (CommonMark), not by regular expressions: inline markup
(`**bold**`, `[links](…)`, `code`) becomes its text, a list becomes one paragraph, a heading
starts a new paragraph but is never one by itself (the first `# heading` is the title when none
is set). YAML front matter (`---` … `---`, as Hugo and Jekyll write it) gives the metadata.
HTML pages go through `bot.knowledge.extract` (trafilatura), which drops menus and footers.
"""

from __future__ import annotations

import json
import re

from markdown_it import MarkdownIt
from markdown_it.token import Token

FRONT_MATTER_RE = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
FIELD_RE = re.compile(r"^([A-Za-z_][\w-]*)\s*:\s*(.*)$")
KEYS = {"title": "title", "date": "date", "dateline": "dateline", "place": "dateline",
        "location": "dateline", "source": "source", "site": "source", "url": "url",
        "link": "url"}

SPECIALS_RE = re.compile(r"([\\`*_\[\]<>])")

_parser = MarkdownIt("commonmark")


def escape_markdown(text: str) -> str:
    """Plain text that Markdown reads back as itself: specials and leading list, quote or
    heading markers escaped."""
    lines = []
    for line in text.split("\n"):
        line = SPECIALS_RE.sub(r"\\\1", line)
        line = re.sub(r"^(\s*)([#>+=|-])", r"\1\\\2", line)
        lines.append(re.sub(r"^(\s*\d+)([.)])", r"\1\\\2", line))
    return "\n".join(lines)


def split_front_matter(text: str) -> tuple[dict[str, str], str]:
    """`---` key: value lines `---` at the very top → (metadata, the rest)."""
    match = FRONT_MATTER_RE.match(text)
    if not match:
        return {}, text
    meta: dict[str, str] = {}
    for line in match.group(1).split("\n"):
        field = FIELD_RE.match(line.strip())
        if not field or field.group(1).lower() not in KEYS:
            continue
        value = _unquote(field.group(2).strip())
        if value:
            meta.setdefault(KEYS[field.group(1).lower()], value)
    if "date" in meta and re.match(r"\d{4}-\d{2}-\d{2}[T ]", meta["date"]):
        meta["date"] = meta["date"][:10]  # 2024-05-01T10:00:00+02:00 → 2024-05-01
    return meta, text[match.end() :]


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            return str(json.loads(value))
        except ValueError:
            return value[1:-1]
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1].replace("''", "'")
    return value


def markdown_paragraphs(body: str) -> tuple[str | None, list[str]]:
    """Render Markdown to (first level-1 heading or None, plain-text paragraphs)."""
    title: str | None = None
    paragraphs: list[str] = []
    items: list[str] = []  # the current list's items, one paragraph in the end
    lists = quotes = 0
    heading_level = 0
    for token in _parser.parse(body):
        kind = token.type
        if kind in ("bullet_list_open", "ordered_list_open"):
            lists += 1
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists -= 1
            if not lists and items:
                paragraphs.append(" ".join(items))
                items = []
        elif kind == "blockquote_open":
            quotes += 1
        elif kind == "blockquote_close":
            quotes -= 1
        elif kind == "heading_open":
            heading_level = int(token.tag[1:])
        elif kind == "heading_close":
            heading_level = 0
        elif kind == "inline":
            text = _inline_text(token)
            if not text:
                continue
            if heading_level:
                if heading_level == 1 and title is None and not paragraphs:
                    title = text
            elif lists:
                items.append(text)
            else:
                paragraphs.append(text)
        elif kind in ("fence", "code_block"):
            if text := " ".join(token.content.split()):
                paragraphs.append(text)
    if items:
        paragraphs.append(" ".join(items))
    return title, paragraphs


def _inline_text(token: Token) -> str:
    parts = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(child.content)  # the alt text
    return " ".join("".join(parts).split())
