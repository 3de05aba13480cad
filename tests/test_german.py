"""bot.language.german: tokens, casefolding, stopwords, compounds and stems."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.language.german import Analyzer, count_words, is_content, normalize, other_forms, words


@pytest.fixture(scope="module")
def plain():
    """An analyzer without a lexicon: closed compounds are not split."""
    return Analyzer()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tiktok", ["tiktok"]),
        ("TIKTOK", ["tiktok"]),
        ("Microsoft", ["microsoft"]),
        ("Straße", ["strass"]),  # ß → ss
        ("STRASSE", ["strass"]),  # the same term as "Straße"
        ("Fußball", ["fussball"]),
        ("Größe", ["gross"]),
        ("Übernahme", ["ubernahm"]),  # ü → u
        ("U\u0308bernahme", ["ubernahm"]),  # decomposed umlaut (NFD) composes first
        ("Präsident", ["prasident"]),  # ä → a
        ("Häuser", ["haus"]),
        ("Hände", ["hand"]),
        ("Züge", ["zug"]),
        ("Nutzer", ["nutz"]),
        ("Nutzern", ["nutz"]),  # inflections meet
        ("kaufen", ["kauf"]),
        ("Millionen", ["million"]),
        ("100 Millionen", ["100", "million"]),  # numbers are content
        ("der die das", []),  # stopwords only
        ("Wer will Tiktok kaufen?", ["tiktok", "kauf"]),
        ("viele", []),  # stems like the stopword "viel"
        ("Weißen Haus", ["weiss", "haus"]),
        ("Tiktok-Eigentümer", ["tiktokeigentum", "tiktok", "eigentum"]),  # whole + parts
        ("US-Geschäft", ["usgeschaft", "us", "geschaft"]),
        ("Video-App", ["videoapp", "video", "app"]),
        ("Social-Media-Geschäft", ["socialmediageschaft", "social", "media", "geschaft"]),
        ("Tiktok‑Eigentümer", ["tiktokeigentum", "tiktok", "eigentum"]),  # non-breaking hyphen
        ("z.B.", []),  # lone letters
        ("x", []),
        ("5", ["5"]),  # a lone digit is content
        ("A5", ["a5"]),
        ("Datensicherheit", ["datensich"]),  # no lexicon: not split
    ],
)
def test_analyze_table(plain, text, expected):
    assert plain.analyze(text) == expected


@pytest.mark.parametrize(
    "text",
    ["Tik\u200btok", "Tik\u00adtok", "Tik\x00tok", "\ufeffTiktok", "Tiktok\u200d", "Tik\x07tok"],
)
def test_zero_width_and_control_characters_are_dropped(plain, text):
    assert plain.analyze(text) == ["tiktok"]


@pytest.mark.parametrize(
    "text", ["😀", "😀😀😀", "👍🏽🇩🇪", "", "   ", "???", "!!! ...", "\x00\x01"]
)
def test_emoji_and_punctuation_only_give_no_terms(plain, text):
    assert plain.analyze(text) == []


def test_same_function_for_questions_and_passages(plain):
    passage = "Microsoft will das US-Geschäft von Tiktok übernehmen."
    question = "Will Microsoft Tiktok übernehmen?"
    assert set(plain.analyze(question)) <= set(plain.analyze(passage))


def test_repeats_are_kept_as_term_frequency(plain):
    assert plain.analyze("Tiktok, Tiktok und nochmal Tiktok").count("tiktok") == 3


def test_normalize_casefolds_and_drops_control_characters():
    assert normalize("STRAẞE\u200b\x00") == "strasse"


def test_words_keep_hyphenated_compounds_together():
    assert words("Das US-Geschäft, die Video‐App.") == ["das", "us-geschäft", "die", "video-app"]


def test_words_split_on_underscore_and_punctuation():
    assert words("a_b c/d e.f") == ["a", "b", "c", "d", "e", "f"]


@pytest.mark.parametrize(
    ("word", "content"),
    [("der", False), ("wer", False), ("x", False), ("5", True), ("tiktok", True), ("gibt", False)],
)
def test_is_content(word, content):
    assert is_content(word) is content


# --- compound splitting ------------------------------------------------------------------


def _split_stems(analyzer: Analyzer, word: str) -> list[str]:
    """The stems of the parts a compound is split into (the surface cut may vary)."""
    return [analyzer.stem(part) for part in analyzer.split_compound(word)]


def test_compound_split_with_known_parts():
    analyzer = Analyzer(Counter({"übernahme": 3, "pläne": 2}))
    assert _split_stems(analyzer, "übernahmepläne") == ["ubernahm", "plan"]


def test_compound_parts_become_terms():
    analyzer = Analyzer(Counter({"übernahme": 3, "pläne": 2}))
    assert analyzer.analyze("Übernahmepläne") == ["ubernahmeplan", "ubernahm", "plan"]


def test_compound_with_unknown_parts_is_not_split():
    analyzer = Analyzer(Counter({"übernahme": 3, "pläne": 2}))
    assert analyzer.split_compound("kaufvertrag") == ["kaufvertrag"]
    assert analyzer.analyze("Kaufvertrag") == ["kaufvertrag"]


def test_compound_with_one_unknown_part_is_not_split():
    analyzer = Analyzer(Counter({"übernahme": 3}))
    assert analyzer.split_compound("übernahmepläne") == ["übernahmepläne"]


def test_fugen_s_is_recognised():
    analyzer = Analyzer(Counter({"sicherheit": 3, "prüfung": 2}))
    assert _split_stems(analyzer, "sicherheitsprüfung") == ["sich", "prufung"]
    assert "prufung" in analyzer.analyze("Sicherheitsprüfung")


def test_frequent_whole_word_is_not_split():
    analyzer = Analyzer(Counter({"übernahme": 3, "pläne": 2, "übernahmepläne": 50}))
    assert analyzer.split_compound("übernahmepläne") == ["übernahmepläne"]


def test_three_part_compound():
    analyzer = Analyzer(Counter({"daten": 5, "schutz": 5, "gesetz": 5}))
    assert _split_stems(analyzer, "datenschutzgesetz") == ["dat", "schutz", "gesetz"]


def test_short_parts_are_not_trusted():
    analyzer = Analyzer(Counter({"app": 9, "store": 9}))
    assert analyzer.split_compound("appstore") == ["appstore"]


def test_split_matches_parts_by_stem():
    """A part counts as known when the knowledge base has it in another inflected form."""
    analyzer = Analyzer(Counter({"übernahme": 3, "plänen": 2}))
    assert _split_stems(analyzer, "übernahmepläne") == ["ubernahm", "plan"]


def test_without_lexicon_nothing_is_split():
    assert Analyzer().split_compound("übernahmepläne") == ["übernahmepläne"]


def test_count_words_counts_hyphen_parts():
    counts = count_words(["Das US-Geschäft von Tiktok", "Tiktok-Eigentümer"])
    assert counts["tiktok"] == 2
    assert counts["geschäft"] == 1
    assert counts["us"] == 1


@pytest.mark.parametrize("word", ["Sicherheit", "Werder", "Einigung", "Wille"])
def test_content_word_is_not_dropped_for_sharing_a_stopword_stem(plain, word):
    assert plain.analyze(word) != []


def test_fugen_s_compound_keeps_both_parts():
    analyzer = Analyzer(Counter({"sicherheit": 3, "prüfung": 2}))
    terms = analyzer.analyze("Sicherheitsprüfung")
    assert len(terms) == 3  # whole + both parts


# --- query groups: other forms of a question's words ------------------------------------


@pytest.mark.parametrize(
    ("question", "index_terms", "group"),
    [
        ("kauft", {"kauf", "kauft"}, ("kauft", "kauf")),  # 3rd person → infinitive
        ("kaufen", {"kauf", "kauft"}, ("kauf", "kauft")),  # and back
        ("gekauft", {"kauf"}, ("gekauft", "kauf")),  # participle
        ("beginnt", {"beginn"}, ("beginnt", "beginn")),
        ("dauert", {"dau"}, ("dauert", "dau")),  # -ern verb: dauern → dau
        ("fordert", {"forder", "ford"}, ("fordert", "ford", "forder")),  # Forderung, fordern
        ("Drohung", {"droht", "droh"}, ("drohung", "droh", "droht")),  # -ung noun → verb
        ("gearbeitet", {"arbeit"}, ("gearbeit", "arbeit")),
    ],
)
def test_query_groups_add_the_known_other_forms(plain, question, index_terms, group):
    assert plain.query_groups(question, index_terms.__contains__) == [group]


def test_query_groups_keep_only_what_the_index_knows(plain):
    assert plain.query_groups("Microsoft kauft", lambda term: False) == [("microsoft",), ("kauft",)]


def test_query_groups_never_shorten_below_three_letters(plain):
    assert plain.query_groups("fast", {"fa", "fas"}.__contains__) == [("fast", "fas")]


def test_query_groups_put_compound_parts_in_their_own_groups():
    analyzer = Analyzer(Counter({"sicherheit": 3, "prüfung": 2}))
    groups = analyzer.query_groups("Sicherheitsprüfung", lambda term: True)
    assert [len(g) for g in groups][1:] == [1, 1] and len(groups) == 3


def test_other_forms_swap_endings_and_drop_ge():
    forms = other_forms("gekauft")
    assert {"kaufen", "kauft", "kaufung"} <= forms and "gekauft" not in forms


# --- properties --------------------------------------------------------------------------


@given(st.text(max_size=200))
def test_analyze_never_raises_and_gives_clean_terms(text):
    terms = Analyzer().analyze(text)
    assert all(t and t == t.casefold() and " " not in t for t in terms)
    assert not any(ch in t for t in terms for ch in "äöüß")
