"""Article files → Article records: the knowledge folder, each file's metadata and paragraphs.

An article is a UTF-8 `.txt`, `.md` or `.html` file. In `.txt` files paragraphs are separated
by blank lines; optional metadata comes first, either as the wire-service prefix
`date 2020-08 REDMOND/WASHINGTON: ...` or as `title: ...` / `date: ...` / `dateline: ...` header
lines. `.md` files may also start with YAML front matter and are rendered by a Markdown parser;
`.html` pages are reduced to their main text (see `bot.knowledge.markup`).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from bot.errors import EmptyArticle, KnowledgeError
from bot.knowledge.extract import extract_page
from bot.knowledge.markup import markdown_paragraphs, split_front_matter
from bot.knowledge.sentences import split_sentences

log = logging.getLogger(__name__)

SUFFIXES = (".txt", ".md", ".html", ".htm")
NAMED_UNSUPPORTED = 5  # unsupported files named in the warning; the rest are counted
TITLE_CHARS = 120

PREFIX_RE = re.compile(
    r"^\s*date\s+(?P<date>\d{4}(?:-\d{2}){0,2})\s+"
    r"(?:(?P<dateline>[A-ZÄÖÜ][A-ZÄÖÜa-zäöüß./ ()-]{1,60}?):\s+)?"
)
HEADER_RE = re.compile(r"^(title|date|dateline):\s*(.+)$", re.IGNORECASE)
MD_HEADER_RE = re.compile(r"^(title|date|dateline|source|url):\s*(.+)$", re.IGNORECASE)


@dataclass(frozen=True)
class Article:
    """One news article: where it came from and what it says."""

    name: str  # the file name, unique in the folder
    title: str
    date: str | None
    dateline: str | None
    paragraphs: tuple[str, ...]
    url: str | None = None  # where it was published (fetched from a feed, or front matter)
    source: str | None = None  # the site or paper


def parse_article(name: str, text: str) -> Article:
    """Parse an article's text (by the file name's suffix): metadata, title and paragraphs."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff").lstrip()
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix == "md":
        return _parse_markdown(name, text)
    if suffix in ("html", "htm"):
        return _parse_html(name, text)
    meta: dict[str, str] = {}
    lines = text.split("\n")
    while lines and (match := HEADER_RE.match(lines[0].strip())):
        meta[match.group(1).lower()] = match.group(2).strip()
        lines.pop(0)
    if lines and lines[0].startswith("# "):
        meta.setdefault("title", lines.pop(0)[2:].strip())
    body = _wire_prefix("\n".join(lines).strip(), meta)
    paragraphs = tuple(
        " ".join(block.split()) for block in re.split(r"\n\s*\n", body) if block.strip()
    )
    if not paragraphs:
        raise EmptyArticle(name)
    title = meta.get("title") or _first_sentence(paragraphs[0])
    return Article(name, shorten(title), meta.get("date"), meta.get("dateline"), paragraphs)


def _wire_prefix(body: str, meta: dict[str, str]) -> str:
    """The body without a leading `date 2020-08 PLACE:` prefix, whose date and place go to meta."""
    if match := PREFIX_RE.match(body):
        meta.setdefault("date", match.group("date"))
        if match.group("dateline"):
            meta.setdefault("dateline", match.group("dateline").strip())
        body = body[match.end() :]
    return body


def _parse_markdown(name: str, text: str) -> Article:
    meta, body = split_front_matter(text)
    lines = body.split("\n")
    while lines:  # header lines and a `# Title`, in any order, before the text
        line = lines[0].strip()
        if not line:
            lines.pop(0)
        elif match := MD_HEADER_RE.match(line):
            meta.setdefault(match.group(1).lower(), match.group(2).strip())
            lines.pop(0)
        elif line.startswith("# ") and not meta.get("#"):
            meta["#"] = line[2:].strip()
            lines.pop(0)
        else:
            break
    body = _wire_prefix("\n".join(lines).strip(), meta)
    heading, paragraphs = markdown_paragraphs(body)
    if not paragraphs:
        raise EmptyArticle(name)
    title = meta.get("title") or meta.get("#") or heading or _first_sentence(paragraphs[0])
    return Article(name, shorten(title), meta.get("date"), meta.get("dateline"),
                   tuple(paragraphs), meta.get("url"), meta.get("source"))


def _parse_html(name: str, text: str) -> Article:
    page = extract_page(text)
    if page is None:
        raise EmptyArticle(name, page=True)
    heading, paragraphs = markdown_paragraphs(page.text)
    if not paragraphs:
        raise EmptyArticle(name, page=True)
    title = page.title or heading or _first_sentence(paragraphs[0])
    return Article(name, shorten(title), page.date, None, tuple(paragraphs), page.url,
                   page.source)


def _first_sentence(paragraph: str) -> str:
    return split_sentences(paragraph)[0].rstrip(".")


def shorten(title: str, limit: int = TITLE_CHARS) -> str:
    """A title of at most `limit` characters, cut at a word boundary with "…"."""
    title = " ".join(title.split())
    if len(title) <= limit:
        return title
    cut = title[: limit - 1]
    if " " in cut[limit // 2 :]:  # a word boundary not too far back
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:–-") + "…"


def article_files(folder: Path, index_dir: Path | None = None) -> list[Path]:
    """The article files of a knowledge folder, sorted; raises KnowledgeError if there are none.

    Hidden files and folders and the saved index (`index_dir`, wherever it is) are never read.
    """
    files, _ = scan(folder, index_dir)
    return files


def scan(folder: Path, index_dir: Path | None = None) -> tuple[list[Path], list[Path]]:
    """(article files, files newsbot cannot read such as .pdf) of a knowledge folder, sorted."""
    if not folder.is_dir():
        raise KnowledgeError(
            f"knowledge folder {folder} does not exist: create it and put news articles "
            "(.txt, .md or .html) into it, or point NEWSBOT_KNOWLEDGE_DIR / --knowledge at one"
        )
    index = _index_folder(folder, index_dir)
    files: list[Path] = []
    unsupported: list[Path] = []
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        if any(part.startswith(".") for part in parts) or _is_index(parts, index):
            continue
        if not path.is_file():
            continue
        (files if path.suffix.lower() in SUFFIXES else unsupported).append(path)
    if not files:
        raise KnowledgeError(
            f"knowledge folder {folder} holds no article: put .txt, .md or .html news articles "
            "into it"
        )
    return files, unsupported


def _index_folder(folder: Path, index_dir: Path | None) -> tuple[str, ...]:
    """The index folder's path inside the knowledge folder; empty when it lies elsewhere."""
    try:
        return index_dir.resolve().relative_to(folder.resolve()).parts if index_dir else ()
    except ValueError:
        return ()


def _is_index(parts: tuple[str, ...], index: tuple[str, ...]) -> bool:
    """Whether a path is the index folder or one of its siblings while it is saved
    (`.tmp-<pid>`, `.old-<pid>`, `.probe-<pid>`, `.lock`)."""
    if not index or len(parts) < len(index) or parts[: len(index) - 1] != index[:-1]:
        return False
    name, own = parts[len(index) - 1], index[-1]
    return name == own or name == own + ".lock" or name.startswith(
        tuple(f"{own}.{end}" for end in ("tmp", "old", "probe")))


def load_articles(
    folder: Path, index_dir: Path | None = None, skipped: list[str] | None = None
) -> list[Article]:
    """Read every article in the folder; unreadable or empty files are skipped with a warning
    (and their names appended to `skipped`). Raises KnowledgeError only when no article is left.
    """
    files, unsupported = scan(folder, index_dir)
    if unsupported:
        names = ", ".join(p.relative_to(folder).as_posix() for p in unsupported[:NAMED_UNSUPPORTED])
        more = len(unsupported) - NAMED_UNSUPPORTED
        log.warning("ignoring %d file(s) that are not .txt, .md or .html: %s%s", len(unsupported),
                    names, f" and {more} more" if more > 0 else "")
    articles = []
    for path in files:
        name = path.relative_to(folder).as_posix()
        try:
            articles.append(parse_article(name, path.read_text(encoding="utf-8")))
            continue
        except UnicodeDecodeError:
            problem = "not UTF-8 text (save it as UTF-8)"
        except OSError as exc:
            problem = f"cannot read it ({exc.strerror or exc})"
        except EmptyArticle as exc:
            problem = "no article text in the page" if exc.page else "the file is empty"
        log.warning("skipping %s: %s", path, problem)
        if skipped is not None:
            skipped.append(f"{name} ({problem})")
    if not articles:
        raise KnowledgeError(
            f"knowledge folder {folder} holds no readable article: "
            "add UTF-8 .txt, .md or .html news articles"
        )
    return articles
