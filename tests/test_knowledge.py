"""bot.knowledge: article files → articles → passages."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.errors import KnowledgeError
from bot.knowledge.articles import TITLE_CHARS, article_files, load_articles, parse_article
from bot.knowledge.passages import MAX_PASSAGE_CHARS, article_passages, split_paragraph
from bot.knowledge.sentences import split_sentences

KNOWLEDGE = Path(__file__).parent / "knowledge"
SEED = KNOWLEDGE / "2020-08-tiktok-microsoft.txt"

SEED_TITLE = "Tiktok ist der erste globale App-Erfolg aus China in der Liga von Facebook"


@pytest.fixture(scope="module")
def seed():
    return parse_article(SEED.name, SEED.read_text(encoding="utf-8"))


# --- metadata ----------------------------------------------------------------------------


def test_seed_prefix_gives_date(seed):
    assert seed.date == "2020-08"


def test_seed_prefix_gives_dateline(seed):
    assert seed.dateline == "REDMOND/WASHINGTON"


def test_seed_title_is_first_sentence_of_lead(seed):
    assert seed.title == SEED_TITLE


def test_seed_prefix_is_not_part_of_the_text(seed):
    assert seed.paragraphs[0].startswith("Tiktok ist der erste globale App-Erfolg")
    assert not any("REDMOND" in p for p in seed.paragraphs)


def test_seed_paragraphs(seed):
    assert len(seed.paragraphs) == 12
    assert seed.paragraphs[-1].endswith("dass die Tiktok-Aktion Erfolg hatte.")


def test_title_header():
    text = "title: Ein Titel\ndate: 2021-03-04\ndateline: BERLIN\n\nText."
    article = parse_article("a.txt", text)
    assert (article.title, article.date, article.dateline) == ("Ein Titel", "2021-03-04", "BERLIN")
    assert article.paragraphs == ("Text.",)


def test_header_names_are_case_insensitive():
    article = parse_article("a.txt", "Title: Groß\nDATE: 2022\n\nText.")
    assert (article.title, article.date) == ("Groß", "2022")


def test_markdown_title():
    article = parse_article("a.md", "# Mein Titel\n\nErster Absatz. Mehr.\n\nZweiter Absatz.")
    assert article.title == "Mein Titel"
    assert article.paragraphs == ("Erster Absatz. Mehr.", "Zweiter Absatz.")


def test_title_header_wins_over_markdown_title():
    article = parse_article("a.md", "title: Kopf\n# Markdown\n\nText.")
    assert article.title == "Kopf"
    assert article.paragraphs == ("Text.",)


def test_markdown_title_after_leading_blank_line():
    article = parse_article("a.md", "\n# Titel\n\nText.")
    assert article.title == "Titel"
    assert article.paragraphs == ("Text.",)


def test_prefix_with_full_date_and_no_dateline():
    article = parse_article("a.txt", "date 2020-08-03 Text hier. Mehr.")
    assert (article.date, article.dateline) == ("2020-08-03", None)
    assert article.paragraphs == ("Text hier. Mehr.",)


def test_no_metadata():
    article = parse_article("a.txt", "Nur Text. Sonst nichts.")
    assert (article.title, article.date, article.dateline) == ("Nur Text", None, None)


def test_long_first_sentence_title_is_cut():
    sentence = "Wort " * 60 + "Ende."
    article = parse_article("a.txt", sentence)
    assert len(article.title) <= TITLE_CHARS
    assert article.title.endswith("Wort…")  # cut at a word boundary, not mid-word


def test_bom_and_crlf():
    article = parse_article("a.txt", "\ufefftitle: X\r\n\r\nEins\r\nzwei.\r\n\r\nDrei.")
    assert article.title == "X"
    assert article.paragraphs == ("Eins zwei.", "Drei.")


@pytest.mark.parametrize("text", ["", "   \n\n  ", "title: Nur ein Titel\n\n"])
def test_article_without_text_is_an_error(text):
    with pytest.raises(KnowledgeError):
        parse_article("a.txt", text)


# --- sentences and paragraphs ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Das ist z.B. Apple. Und dann.", ["Das ist z.B. Apple.", "Und dann."]),
        ("Er trägt Nr. 5 im Team. Gut.", ["Er trägt Nr. 5 im Team.", "Gut."]),
        (
            "Die App Musical.ly war beliebt. Dann kam Tiktok.",
            ["Die App Musical.ly war beliebt.", "Dann kam Tiktok."],
        ),
        ("Er kam am 5. August an. Dann ging er.", ["Er kam am 5. August an.", "Dann ging er."]),
        (
            "Donald J. Trump drohte. Microsoft reagierte.",
            ["Donald J. Trump drohte.", "Microsoft reagierte."],
        ),
        ("Prof. Dr. Sabine Krämer sprach. Gut!", ["Prof. Dr. Sabine Krämer sprach.", "Gut!"]),
        ("Kosten ca. 5 Mio. Euro. Ende.", ["Kosten ca. 5 Mio. Euro.", "Ende."]),
        ("Wer? Ich! Ja.", ["Wer?", "Ich!", "Ja."]),
        ("Sie sagte: «Nein.» Dann ging sie.", ["Sie sagte: «Nein.»", "Dann ging sie."]),
        ("Er zahlte 2019. Dann nicht mehr.", ["Er zahlte 2019.", "Dann nicht mehr."]),
        (
            "Der Preis stieg um 5 Prozent. 2024 war es anders.",
            ["Der Preis stieg um 5 Prozent.", "2024 war es anders."],
        ),
        ("Die Nr. 1, Kapitän Wolters, bleibt.", ["Die Nr. 1, Kapitän Wolters, bleibt."]),
        ("Ohne Punkt am Ende", ["Ohne Punkt am Ende"]),
        ("", []),
    ],
)
def test_split_sentences(text, expected):
    assert split_sentences(text) == expected


@pytest.mark.parametrize(
    "fragment", ["z.B. ", "Nr. 5", "Musical.ly", "am 5. August", "Donald J. Trump"]
)
def test_sentences_never_split_inside(fragment):
    text = f"Vorher kommt ein Satz. Hier steht {fragment} mitten im Satz. Danach noch einer."
    assert any(fragment.strip() in s for s in split_sentences(text))
    assert len(split_sentences(text)) == 3


def test_short_paragraph_is_one_passage():
    assert split_paragraph("Kurz. Knapp.") == ["Kurz. Knapp."]


def test_long_paragraph_is_cut_at_sentence_boundaries_under_the_limit():
    paragraph = " ".join(f"Das ist der Satz Nummer {i} mit etwas Text darin." for i in range(60))
    chunks = split_paragraph(paragraph)
    assert len(chunks) > 1
    assert all(len(chunk) <= MAX_PASSAGE_CHARS for chunk in chunks)
    assert all(chunk.endswith("darin.") for chunk in chunks)
    assert " ".join(chunks) == paragraph


def test_paragraph_cut_respects_a_custom_limit():
    paragraph = " ".join(f"Satz {i} ist hier." for i in range(40))
    chunks = split_paragraph(paragraph, limit=100)
    assert all(len(chunk) <= 100 for chunk in chunks)
    assert " ".join(chunks) == paragraph


# --- passages ----------------------------------------------------------------------------


def test_seed_passages_are_verbatim(seed):
    raw = SEED.read_text(encoding="utf-8")
    passages = article_passages(seed)
    assert passages
    for passage in passages:
        assert passage.text in raw


def test_seed_passages_carry_article_and_position(seed):
    passages = article_passages(seed)
    assert [p.position for p in passages] == list(range(len(passages)))
    assert {p.article for p in passages} == {SEED.name}
    assert {(p.title, p.date, p.dateline) for p in passages} == {
        (SEED_TITLE, "2020-08", "REDMOND/WASHINGTON")
    }


def test_seed_passages_stay_under_the_limit(seed):
    assert all(len(p.text) <= MAX_PASSAGE_CHARS for p in article_passages(seed))


def test_seed_microsoft_passage_text(seed):
    texts = [p.text for p in article_passages(seed)]
    assert texts[1].startswith("Microsoft bringt sich nach massivem politischen Druck")


# --- folders -----------------------------------------------------------------------------


def test_load_test_knowledge():
    articles = load_articles(KNOWLEDGE)
    assert [a.name for a in articles] == sorted(p.name for p in KNOWLEDGE.glob("*.txt"))
    assert all(a.date and a.dateline for a in articles)


def test_missing_folder(tmp_path):
    with pytest.raises(KnowledgeError, match="does not exist"):
        load_articles(tmp_path / "nowhere")


def test_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(KnowledgeError, match="no article"):
        load_articles(tmp_path / "empty")


def test_folder_with_other_files_only(tmp_path):
    folder = tmp_path / "k"
    folder.mkdir()
    (folder / "bild.jpg").write_bytes(b"\xff\xd8")
    (folder / "notes.pdf").write_text("x")
    with pytest.raises(KnowledgeError):
        load_articles(folder)


def test_bad_files_are_skipped_with_a_warning(tmp_path, caplog):
    folder = tmp_path / "k"
    folder.mkdir()
    (folder / "gut.txt").write_text("Ein guter Artikel. Mit Text.", encoding="utf-8")
    (folder / "latin1.txt").write_bytes("Größe und Übernahme.".encode("latin-1"))
    (folder / "leer.md").write_text("", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="bot.knowledge.articles"):
        articles = load_articles(folder)
    assert [a.name for a in articles] == ["gut.txt"]
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("latin1.txt" in m and "UTF-8" in m for m in messages)
    assert any("leer.md" in m for m in messages)


def test_only_bad_files_is_an_error(tmp_path):
    folder = tmp_path / "k"
    folder.mkdir()
    (folder / "latin1.txt").write_bytes("Größe".encode("latin-1"))
    with pytest.raises(KnowledgeError, match="no readable article"):
        load_articles(folder)


def test_hidden_folders_and_files_are_ignored(tmp_path):
    folder = tmp_path / "k"
    (folder / ".newsbot").mkdir(parents=True)
    (folder / ".newsbot" / "passages.txt").write_text("Gespeicherter Index.")
    (folder / ".versteckt.txt").write_text("Versteckt.")
    (folder / "artikel.txt").write_text("Sichtbar.")
    assert [p.name for p in article_files(folder)] == ["artikel.txt"]


def test_subfolders_and_md_are_read(tmp_path):
    folder = tmp_path / "k"
    (folder / "2024").mkdir(parents=True)
    (folder / "2024" / "b.md").write_text("# B\n\nText B.")
    (folder / "a.TXT").write_text("Text A.")
    assert [a.name for a in load_articles(folder)] == ["2024/b.md", "a.TXT"]


def test_skipped_files_are_named_to_the_caller(tmp_path):
    folder = tmp_path / "k"
    folder.mkdir()
    (folder / "gut.txt").write_text("Ein guter Artikel.", encoding="utf-8")
    (folder / "latin1.txt").write_bytes("Größe".encode("latin-1"))
    skipped: list[str] = []
    assert [a.name for a in load_articles(folder, skipped=skipped)] == ["gut.txt"]
    assert skipped == ["latin1.txt (not UTF-8 text (save it as UTF-8))"]
