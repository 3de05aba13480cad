"""Article files → Article records: the knowledge folder, each file's metadata and paragraphs.

An article is a UTF-8 `.txt` or `.md` file; paragraphs are separated by blank lines. Optional
metadata comes first, either as the wire-service prefix `date 2020-08 REDMOND/WASHINGTON: ...`
or as `title: ...` / `date: ...` / `dateline: ...` header lines (or a Markdown `# Title`).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from bot.errors import KnowledgeError
from bot.knowledge.sentences import split_sentences

log = logging.getLogger(__name__)

SUFFIXES = (".txt", ".md")
TITLE_CHARS = 120

PREFIX_RE = re.compile(
    r"^\s*date\s+(?P<date>\d{4}(?:-\d{2}){0,2})\s+"
    r"(?:(?P<dateline>[A-ZÄÖÜ][A-ZÄÖÜa-zäöüß./ ()-]{1,60}?):\s+)?"
)
HEADER_RE = re.compile(r"^(title|date|dateline):\s*(.+)$", re.IGNORECASE)


@dataclass(frozen=True)
class Article:
    """One news article: where it came from and what it says."""

    name: str  # the file name, unique in the folder
    title: str
    date: str | None
    dateline: str | None
    paragraphs: tuple[str, ...]


def parse_article(name: str, text: str) -> Article:
    """Parse an article's text: metadata, title and paragraphs."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff").lstrip()
    meta: dict[str, str] = {}
    lines = text.split("\n")
    while lines and (match := HEADER_RE.match(lines[0].strip())):
        meta[match.group(1).lower()] = match.group(2).strip()
        lines.pop(0)
    if lines and lines[0].startswith("# "):
        meta.setdefault("title", lines.pop(0)[2:].strip())
    body = "\n".join(lines).strip()
    if match := PREFIX_RE.match(body):
        meta.setdefault("date", match.group("date"))
        if match.group("dateline"):
            meta.setdefault("dateline", match.group("dateline").strip())
        body = body[match.end() :]
    paragraphs = tuple(
        " ".join(block.split()) for block in re.split(r"\n\s*\n", body) if block.strip()
    )
    if not paragraphs:
        raise KnowledgeError(f"{name}: no text after the metadata")
    title = meta.get("title") or _first_sentence(paragraphs[0])
    return Article(name, title, meta.get("date"), meta.get("dateline"), paragraphs)


def _first_sentence(paragraph: str) -> str:
    sentence = split_sentences(paragraph)[0].rstrip(".")
    return sentence if len(sentence) <= TITLE_CHARS else sentence[: TITLE_CHARS - 1] + "…"


def article_files(folder: Path) -> list[Path]:
    """The article files of a knowledge folder, sorted; raises KnowledgeError if there are none."""
    if not folder.is_dir():
        raise KnowledgeError(
            f"knowledge folder {folder} does not exist: create it and put news articles "
            "(.txt or .md) into it, or point NEWSBOT_KNOWLEDGE_DIR / --knowledge at one"
        )
    files = sorted(
        p for p in folder.rglob("*")
        if p.suffix.lower() in SUFFIXES and p.is_file() and not _hidden(p, folder)
    )
    if not files:
        raise KnowledgeError(
            f"knowledge folder {folder} holds no article: put .txt or .md news articles into it"
        )
    return files


def _hidden(path: Path, folder: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(folder).parts)


def load_articles(folder: Path, strict: bool = False) -> list[Article]:
    """Read every article in the folder; unreadable or empty files are skipped with a warning.

    With `strict` (a reload while serving), any such file is an error instead, so the old
    index keeps serving until the folder is fixed.
    """
    articles, problems = [], []
    for path in article_files(folder):
        name = path.relative_to(folder).as_posix()
        try:
            articles.append(parse_article(name, path.read_text(encoding="utf-8")))
        except UnicodeDecodeError:
            problems.append(f"{path}: not UTF-8 text (save it as UTF-8)")
        except OSError as exc:
            problems.append(f"{path}: cannot read it ({exc.strerror or exc})")
        except KnowledgeError:
            problems.append(f"{path}: the file is empty")
    for problem in problems:
        log.warning("skipping %s", problem)
    if strict and problems:
        raise KnowledgeError("; ".join(problems))
    if not articles:
        raise KnowledgeError(
            f"knowledge folder {folder} holds no readable article: "
            "add UTF-8 .txt or .md news articles"
        )
    return articles
