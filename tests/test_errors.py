"""One error hierarchy: every domain error is a NewsbotError, reported as one line (exit 2)."""

from __future__ import annotations

import pytest

from bot.errors import (
    ConfigError,
    DictionaryError,
    EmptyArticle,
    FetchError,
    IndexFileError,
    KnowledgeError,
    NewsbotError,
)
from bot.knowledge.articles import load_articles, parse_article
from bot.knowledge.web import FetchError as WebFetchError
from bot.language.dictionary import DictionaryError as ParsedDictionaryError


@pytest.mark.parametrize("error", [ConfigError, KnowledgeError, IndexFileError, EmptyArticle,
                                   DictionaryError, FetchError])
def test_every_domain_error_is_a_newsbot_error(error):
    assert issubclass(error, NewsbotError)


def test_the_stages_raise_the_shared_classes():
    assert WebFetchError is FetchError and ParsedDictionaryError is DictionaryError


@pytest.mark.parametrize(("name", "text", "page"), [
    ("leer.txt", "title: Nur Kopf\n\n", False),
    ("leer.html", "<html><body><nav>Menü</nav></body></html>", True),
])
def test_an_empty_article_says_which_kind(name, text, page):
    with pytest.raises(EmptyArticle) as caught:
        parse_article(name, text)
    assert caught.value.page is page and caught.value.name == name


def test_skipped_files_are_named_with_their_problem(tmp_path):
    (tmp_path / "gut.txt").write_text("Ein Artikel über die Seilbahn.", encoding="utf-8")
    (tmp_path / "leer.txt").write_text("title: Nur Kopf\n\n", encoding="utf-8")
    (tmp_path / "leer.html").write_text("<html><body></body></html>", encoding="utf-8")
    skipped: list[str] = []
    assert len(load_articles(tmp_path, skipped=skipped)) == 1
    assert sorted(skipped) == ["leer.html (no article text in the page)",
                               "leer.txt (the file is empty)"]
