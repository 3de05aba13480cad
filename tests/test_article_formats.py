"""Articles as people write them (issue #12): Markdown with front matter or header lines,
HTML pages, the index folder and hidden files never read, bad and unsupported files skipped
with one warning, long titles cut at a word boundary, url and source saved with the index."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import replace
from pathlib import Path

from bot.config import Settings
from bot.indexing import checks, storage
from bot.indexing.loading import report_stale_index
from bot.knowledge.articles import TITLE_CHARS, article_files, load_articles, parse_article
from bot.knowledge.markup import escape_markdown, markdown_paragraphs
from bot.knowledge.passages import article_passages
from tests.feed_site import BOILERPLATE_WORDS, STREIK, page

KNOWLEDGE = Path(__file__).parent / "knowledge"
HOLDOUT = Path(__file__).parent / "holdout" / "knowledge"

HUGO = """---
title: "Seilbahn für Ulmenau: Stadtrat sagt ja"
date: 2025-06-03T18:30:00+02:00
place: ULMENAU
source: Ulmenauer Bote
url: https://bote.example/seilbahn
tags: [verkehr, stadt]
draft: false
---

Der **Stadtrat** hat den Bau einer [Seilbahn](https://bote.example/s) beschlossen.
Die Kosten liegen bei `40 Mio.` Euro.

## Hintergrund

Geplant sind:

- drei Stationen,
- 3000 Fahrgäste pro Stunde.

> Ein Zitat des Bürgermeisters.
"""


def test_front_matter_gives_the_metadata_and_markdown_becomes_plain_text():
    article = parse_article("seilbahn.md", HUGO)
    assert article.title == "Seilbahn für Ulmenau: Stadtrat sagt ja"
    assert (article.date, article.dateline) == ("2025-06-03", "ULMENAU")
    assert (article.source, article.url) == ("Ulmenauer Bote", "https://bote.example/seilbahn")
    assert article.paragraphs == (
        "Der Stadtrat hat den Bau einer Seilbahn beschlossen. Die Kosten liegen bei 40 Mio. Euro.",
        "Geplant sind:",
        "drei Stationen, 3000 Fahrgäste pro Stunde.",
        "Ein Zitat des Bürgermeisters.",
    )
    text = " ".join(p.text for p in article_passages(article))
    assert not re.search(r"[*\[\]`#>]|https?:", text)
    assert "Hintergrund" not in text  # a heading is never a passage by itself


def test_escaped_plain_text_reads_back_as_itself():
    text = "1. FC Köln *siegt* [sic] <b> & mehr_davon\n- kein Punkt\n# kein Titel\n> kein Zitat"
    _, paragraphs = markdown_paragraphs(escape_markdown(text))
    assert paragraphs == [" ".join(text.split())]


def test_a_heading_starts_a_new_passage():
    article = parse_article("a.md", "Erster Satz.\n## Zweiter Teil\nZweiter Satz.")
    assert article.paragraphs == ("Erster Satz.", "Zweiter Satz.")


def test_markdown_title_then_header_lines():
    text = "# Der Titel\ndate: 2024-05-01\ndateline: BREMEN\n\nText *hier*."
    article = parse_article("a.md", text)
    assert (article.title, article.date, article.dateline) == ("Der Titel", "2024-05-01", "BREMEN")
    assert article.paragraphs == ("Text hier.",)


def test_header_lines_in_markdown_still_work():
    article = parse_article("a.md", "title: Kopf\ndate: 2023\n\n# Überschrift\n\nText.")
    assert (article.title, article.date, article.paragraphs) == ("Kopf", "2023", ("Text.",))


def test_a_heading_gives_the_title_when_none_is_set():
    article = parse_article("a.md", "Vorspann ohne Titel.\n\n# Spätere Überschrift\n\nText.")
    assert article.title == "Vorspann ohne Titel"
    article = parse_article("a.md", "## Nur eine Zwischenzeile\n\nText hier.")
    assert article.title == "Text hier"


def test_plain_text_articles_parse_as_before():
    """The seed and the test articles: the same passages as .txt and as Markdown prose."""
    for path in [*sorted(KNOWLEDGE.glob("*.txt")), *sorted(HOLDOUT.glob("*.txt"))]:
        text = path.read_text(encoding="utf-8")
        as_text = parse_article(path.name, text)
        assert as_text.url is None and as_text.source is None
        as_markdown = parse_article(path.stem + ".md", text)
        assert as_markdown.paragraphs == as_text.paragraphs, path.name
        assert (as_markdown.title, as_markdown.date, as_markdown.dateline) == \
            (as_text.title, as_text.date, as_text.dateline)


def test_html_files_are_read_with_the_extractor(tmp_path):
    (tmp_path / "streik.html").write_bytes(page("Neuer Bahnstreik am Donnerstag", STREIK))
    (tmp_path / "menu.htm").write_text("<html><body><nav>Startseite</nav></body></html>")
    [article] = load_articles(tmp_path)
    assert (article.title, article.date, article.source) == \
        ("Neuer Bahnstreik am Donnerstag", "2025-06-02", "Tagesblatt")
    assert article.paragraphs == STREIK
    text = " ".join(article.paragraphs)
    assert not any(word in text for word in BOILERPLATE_WORDS)


def test_index_folder_and_hidden_files_are_never_articles(tmp_path):
    (tmp_path / "index").mkdir()
    (tmp_path / "index" / "passages.txt").write_text("Gespeicherte Passagen.")
    (tmp_path / ".newsbot-feeds.json").write_text("{}")
    (tmp_path / ".entwurf.md").write_text("Versteckt.")
    (tmp_path / "artikel.txt").write_text("Sichtbar.")
    assert [p.name for p in article_files(tmp_path, tmp_path / "index")] == ["artikel.txt"]
    assert [a.name for a in load_articles(tmp_path, tmp_path / "index")] == ["artikel.txt"]


def test_index_in_a_visible_folder_is_saved_and_reloaded_without_reading_itself(knowledge_copy):
    settings = Settings(knowledge_dir=knowledge_copy, index_dir=knowledge_copy / "index")
    storage.build_and_save(settings)
    assert storage.is_current(settings.knowledge_dir, settings.saved_index_dir)
    engine = storage.open_index(settings)
    assert len(engine.articles) == 4


def test_unsupported_files_get_one_warning(tmp_path, caplog):
    (tmp_path / "artikel.txt").write_text("Sichtbar.")
    for i in range(12):
        (tmp_path / f"scan{i:02}.pdf").write_bytes(b"%PDF")
    (tmp_path / "brief.docx").write_bytes(b"PK")
    with caplog.at_level(logging.WARNING, logger="bot.knowledge.articles"):
        load_articles(tmp_path)
    [message] = [r.getMessage() for r in caplog.records]
    assert "13 file(s)" in message and "brief.docx" in message and "and 8 more" in message


def test_long_titles_are_cut_at_a_word_boundary():
    title = "Bundesregierung " + "beschließt umfangreiches Maßnahmenpaket " * 5
    article = parse_article("a.md", f"---\ntitle: {title}\n---\n\nText.")
    assert len(article.title) <= TITLE_CHARS and article.title.endswith("…")
    assert article.title[:-1].split()[-1] in title.split()


def test_saved_index_keeps_url_and_source_and_reads_old_ones(knowledge_copy):
    (knowledge_copy / "seilbahn.md").write_text(HUGO, encoding="utf-8")
    settings = Settings(knowledge_dir=knowledge_copy)
    storage.build_and_save(settings)
    loaded = storage.load(settings.saved_index_dir)
    [article] = [a for a in loaded.articles if a.name == "seilbahn.md"]
    assert (article.url, article.source) == ("https://bote.example/seilbahn", "Ulmenauer Bote")
    hit = loaded.ask("Was kostet die Seilbahn in Ulmenau?").hits[0]
    assert hit.passage.url == "https://bote.example/seilbahn"
    # An index saved before url and source existed still loads.
    saved = settings.saved_index_dir / "articles.json"
    old = json.loads(saved.read_text(encoding="utf-8"))
    saved.write_text(json.dumps([{k: v for k, v in a.items() if k not in ("url", "source")}
                                 for a in old]), encoding="utf-8")
    manifest = json.loads((settings.saved_index_dir / "manifest.json").read_text("utf-8"))
    manifest["checksums"].update(checks.checksums(settings.saved_index_dir, ["articles.json"]))
    (settings.saved_index_dir / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    again = storage.load(settings.saved_index_dir)
    assert all(a.url is None for a in again.articles)
    assert replace(again.articles[0], url="x").url == "x"


def test_an_index_in_a_visible_folder_is_not_reported_stale(knowledge_copy, caplog):
    settings = Settings(knowledge_dir=knowledge_copy, index_dir=knowledge_copy / "index")
    storage.build_and_save(settings)
    with caplog.at_level(logging.WARNING):
        report_stale_index(settings)
    assert not [r for r in caplog.records if "out of date" in r.getMessage()]
