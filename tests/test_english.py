"""English questions: language detection, lemmas and the translated structured query."""

from __future__ import annotations

import pytest

from bot.language.dictionary import Dictionary
from bot.language.english import (
    ENGLISH_STOPWORDS,
    detect_language,
    lemma_candidates,
    tokenize,
    translate_question,
)


@pytest.mark.parametrize("question, language", [
    ("Who is buying TikTok?", "en"),
    ("What will Microsoft do?", "en"),
    ("How many users does TikTok have in the US?", "en"),
    ("What did Trump threaten?", "en"),
    ("Which company owns TikTok?", "en"),
    ("Is TikTok banned?", "en"),
    ("Why does Trump want to ban TikTok?", "en"),
    ("Was TikTok sold?", "en"),
    ("Will Microsoft buy TikTok?", "en"),
    ("How much would Microsoft have to pay?", "en"),
    ("What was the deal?", "en"),
    ("Is TikTok in the US?", "en"),
    ("who is buying tiktok", "en"),
    ("Microsoft buying TikTok?", "en"),
    ("Tell me about the TikTok deal", "en"),
    ("Will Trump ban TikTok?", "en"),
    ("Was ist der Plan von Microsoft?", "de"),
    ("Wer kauft TikTok?", "de"),
    ("Was will Microsoft?", "de"),
    ("Wie viele Nutzer hat TikTok?", "de"),
    ("Was hat Trump angedroht?", "de"),
    ("Welche Firma besitzt TikTok?", "de"),
    ("Warum will Trump TikTok verbieten?", "de"),
    ("Was kostet die Übernahme?", "de"),
    ("Ist TikTok in den USA verboten?", "de"),
    ("Was sagt Oracle?", "de"),
    ("Was war los mit TikTok?", "de"),
    ("Man will TikTok kaufen", "de"),
    ("wer kauft tiktok", "de"),
    ("Datenschutz bei TikTok", "de"),
    ("TikTok so teuer?", "de"),
    ("Microsoft?", "de"),
    ("Tiktok", "de"),
    ("TikTok Microsoft", "de"),
    ("Beijing?", "de"),
    ("", "de"),
])
def test_detect_language(question, language):
    assert detect_language(question) == language


@pytest.mark.parametrize("word, expected", [
    ("buy", ["buy"]),
    ("users", ["users", "user"]),
    ("companies", ["companies", "company"]),
    ("watches", ["watches", "watche", "watch"]),
    ("buying", ["buying", "buy"]),
    ("taking", ["taking", "take"]),
    ("using", ["using", "use"]),
    ("running", ["running", "run"]),
    ("singing", ["singing", "sing"]),
    ("acquired", ["acquired", "acquire"]),
    ("planned", ["planned", "plan"]),
    ("hoped", ["hoped", "hope"]),
    ("wanted", ["wanted", "want"]),
    ("studied", ["studied", "study"]),
    ("bought", ["bought", "buy"]),
    ("Sold", ["sold", "sell"]),
    ("taken", ["taken", "take"]),
    ("said", ["said", "say"]),
])
def test_lemma_candidates_best_first(word, expected):
    candidates = lemma_candidates(word)
    assert [c for c in candidates if c in expected] == expected  # order; extras allowed
    assert candidates[0] == word.casefold()


@pytest.mark.parametrize("word", ["news", "business", "status", "analysis", "need", "bus"])
def test_lemma_candidates_keep_the_word_first(word):
    assert lemma_candidates(word)[0] == word
    assert "busines" not in lemma_candidates(word) and "statu" not in lemma_candidates(word)


def test_stopwords_are_function_words_only():
    assert {"the", "who", "is", "does", "have", "of", "in", "many", "to", "would"} \
        <= ENGLISH_STOPWORDS
    assert not {"buy", "take", "million", "first", "new", "year", "users", "own", "pay"} \
        & ENGLISH_STOPWORDS


def test_tokenize():
    tokens = tokenize("Who wants TikTok's U.S. business, or 1.5 billion?")
    assert [w for w, _ in tokens] == ["Who", "wants", "TikTok", "US", "business", "or", "1.5",
                                      "billion"]
    assert [w for w, start in tokens if start] == ["Who", "or"]
    assert [w for w, _ in tokenize("Musical.ly and Amazon.com, the end.Next")] == [
        "Musical.ly", "and", "Amazon.com", "the", "end", "Next"]


SMALL = Dictionary({
    "buy sth.": ["kaufen", "erwerben"],
    "buying": ["Kauf", "kaufend"],
    "take sth.": ["nehmen"],
    "over": ["über", "vorbei"],
    "take over sth.": ["übernehmen"],
    "user": ["Nutzer", "Benutzer"],
    "users": ["Nutzer", "Benutzer", "Anwender"],
    "United States": ["Vereinigte Staaten"],
    "us": ["Vereinigte Staaten"],
    "business": ["Geschäft", "Betrieb"],
    "company": ["Unternehmen", "Firma"],
    "own": ["besitzen", "eigen"],
    "trump": ["Trumpf"],
    "threaten sb.": ["drohen", "bedrohen"],
    "pay": ["zahlen", "bezahlen"],
    "app": ["Anhang"],
    "million": ["Million"],
    "many": ["viele"],
})


def test_dictionary_none_keeps_content_words():
    assert translate_question("Who is buying TikTok?", None) == [("buying",), ("TikTok",)]
    assert translate_question("How many users does TikTok have in the US?", None) == [
        ("users",), ("TikTok",), ("US",)]


def test_stopwords_dropped_and_words_translated():
    assert translate_question("Which company owns TikTok?", SMALL) == [
        ("company", "Unternehmen", "Firma"), ("owns", "besitzen", "eigen"), ("TikTok",)]
    assert translate_question("How many users does TikTok have in the US?", SMALL) == [
        ("users", "Nutzer", "Benutzer", "Anwender"), ("TikTok",),
        ("US", "USA", "Vereinigte Staaten")]


def test_inflected_forms_add_the_base_translations():
    assert translate_question("Who is buying TikTok?", SMALL) == [
        ("buying", "Kauf", "kaufend", "kaufen", "erwerben"), ("TikTok",)]
    assert translate_question("Who bought it?", SMALL) == [("bought", "kaufen", "erwerben")]


def test_past_participles_added():
    verbs = Dictionary({"threaten sb.": ["drohen"], "threatened": ["gedroht", "bedroht"],
                        "take over sth.": ["übernehmen"], "taken over": ["übernommen"],
                        "ban": ["Verbot", "verbieten"], "banned": ["verboten"],
                        "pay": ["zahlen"], "paid": ["bezahlt"]})
    assert translate_question("What did Trump threaten?", verbs) == [
        ("Trump",), ("threaten", "drohen", "gedroht", "bedroht")]
    assert translate_question("Who took over TikTok?", verbs) == [
        ("took over", "übernehmen", "übernommen"), ("TikTok",)]
    assert translate_question("Will Trump ban TikTok?", verbs)[1] == (
        "ban", "Verbot", "verbieten", "verboten")
    assert translate_question("Who paid?", verbs) == [("paid", "bezahlt", "zahlen")]


def test_phrase_preferred_over_single_words():
    assert translate_question("Who will take over TikTok's US business?", SMALL) == [
        ("take over", "übernehmen"), ("TikTok",), ("US", "USA", "Vereinigte Staaten"),
        ("business", "Geschäft", "Betrieb")]
    assert translate_question("Is Microsoft taking over TikTok?", SMALL)[1] == (
        "taking over", "übernehmen")
    assert translate_question("Who took over Musical.ly?", SMALL) == [
        ("took over", "übernehmen"), ("Musical.ly",)]
    assert translate_question("Take it. Over there, please", SMALL) == [
        ("Take", "nehmen")]  # no phrase across the full stop; "please" is a stopword


def test_multi_word_names():
    assert translate_question("What does the United States want?", SMALL)[0] == (
        "United States", "Vereinigte Staaten")


def test_names_numbers_and_unknown_words_pass_through():
    groups = translate_question("What did Trump threaten in 2020 for 1.5 million users?", SMALL)
    assert groups == [("Trump",), ("threaten", "drohen", "bedrohen"), ("2020",), ("1.5",),
                      ("million", "Million"), ("users", "Nutzer", "Benutzer", "Anwender")]
    assert translate_question("Who owns the App and the Cloud?", SMALL) == [
        ("owns", "besitzen", "eigen"), ("App",), ("Cloud",)]
    assert translate_question("the of and?", SMALL) == []


def test_acronyms_and_shouting():
    assert translate_question("What did the WHO and IT say about it?", SMALL) == [
        ("WHO",), ("IT",), ("say",)]  # acronyms are kept, never translated as "who"/"it"
    assert translate_question("WHO IS BUYING TIKTOK?", SMALL) == [
        ("buying", "Kauf", "kaufend", "kaufen", "erwerben"), ("tiktok",)]


def test_groups_are_capped_and_deduplicated():
    big = Dictionary({"deal": [f"Wort{i}" for i in range(30)] + ["deal", "Deal"]})
    group = translate_question("What about the deal?", big)[0]
    assert group[0] == "deal" and len(group) == 13 and group[1:] == tuple(
        f"Wort{i}" for i in range(12))
    assert translate_question("Deal Deal", Dictionary({"deal": ["Deal", "Abkommen"]})) == [
        ("Deal", "Abkommen"), ("Deal",)]
