"""The dictd reader: tiny hand-written dictionaries in the real FreeDict format."""

from __future__ import annotations

import gzip
import re
import struct
import zlib
from pathlib import Path

import pytest

from bot.language.dictionary import (
    DEFAULT_DICTIONARY,
    Dictionary,
    DictionaryError,
    load_dictionary,
    normalize_key,
)

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

# (index headwords, entry text) — written for these tests in the FreeDict eng-deu layout.
ENTRIES = [
    (["00databaseinfo"], "00-database-info\nThis is a test dictionary, not a real one.\n"),
    (["buy"], "buy /bˈaɪ/\nKaufobjekt <neut>, Kauf <masc>, Einkauf <masc> [econ.]\n"
              '      "a good buy"  - ein guter Kauf\n   Synonym: {purchase}\n\n'
              " see: {a good bargain}, {best buys}\n\n"),
    (["buy sth", "bought"],
     "buy sth. /bˈaɪ ˌɛstˌiːˈeɪtʃ/ (bought /bˈɔːt/ <>, bought /bˈɔːt/ <>)\n"
     "etw. kaufen, einkaufen, erwerben [geh.]  [käuflich] , erstehen <v, trans> [geh.]\n"
     "   Synonym: {purchase sth.}\n\n see: {buying}, {bought}\n\n"),
    (["buy sth"], "buy sth. /bˈaɪ ˌɛstˌiːˈeɪtʃ/\nsich etw. besorgen <v, refl>\n"
                  "   Synonym: {get sth.}\n\n"),
    (["bought"], "bought /bˈɔːt/\ngekauft, eingekauft, erworben\n"
                 '      "I/he/she bought"  - ich/er/sie kaufte\n see: {buy sth.}\n\n'),
    (["take over sth"], "take over sth. /tˈeɪk ˌəʊvəɹ ˌɛstˌiːˈeɪtʃ/\netw. übernehmen <v, trans>\n"
                        " see: {taking over}, {taken over}\n\n"),
    (["user"], "user /jˈuːzə/\nBenutzer <masc>, Nutzer <masc>; Anwenderin ([+ gen]) <fem>\n"
               '      "first-time user"  - Erstbenutzer, Erstanwender\n see: {users}\n\n'
               "         Note: of sth.\n\n"),
    (["threaten sb"], "threaten sb. /θɹˈɛtən ˌɛsbˈiː/\n"
                      "jdm. mit etw. drohen <v, intr>, jdn. bedrohen\n"
                      "         Note: mit etw., jdm. etw. androhen <v, trans>\n\n"),
    (["united states", "us"], "United States /juːnˈaɪtɪd stˈeɪts/ (US /jˌuːˈɛs/)\n"
                              "Vereinigte Staaten\n see: {United States of America}\n\n"),
    (["company"], "company /kˈʌmpəni/\nFirma <fem> [econ.] Fa.,  /fˈɑː/\n"
                  " see: {companies}, {rival company}\n\n"),
    (["the nuts and bolts"], "the nuts and bolts /ðə nˈʌts and bˈəʊlts/\n"
                             " [coll.] das Wesentliche [ugs.]\n\n"),
    (["there is no such thing"], "there is no such thing /ðˈeəɹ ɪz nˈəʊ sˈʌtʃ θˈɪŋ/\n"
                                 "so etwas gibt es nicht\n\n"),
    (["cloud"], "cloud /klˈaʊd/\n"
                "Wolke <fem>, persönliche Rechen- und Speicherplattform im Internet\n\n"),
]


def b64(number: int) -> str:
    digits = ""
    while True:
        number, rest = divmod(number, 64)
        digits = B64[rest] + digits
        if not number:
            return digits


def write_dictd(folder: Path, entries=ENTRIES, name: str = "test-eng-deu") -> Path:
    """Write `<name>.index` + gzip-compressed `<name>.dict.dz`; return the index path."""
    body, lines = b"", []
    for headwords, text in entries:
        data = text.encode()
        lines += [f"{h}\t{b64(len(body))}\t{b64(len(data))}" for h in headwords]
        body += data
    index = folder / f"{name}.index"
    index.write_text("\n".join(sorted(lines)) + "\n", encoding="utf-8")
    (folder / f"{name}.dict.dz").write_bytes(gzip.compress(body))
    return index


@pytest.fixture
def dictionary(tmp_path) -> Dictionary:
    return load_dictionary(write_dictd(tmp_path))


@pytest.mark.parametrize("raw, key", [
    ("buy sth.", "buy"), ("take over sth.", "take over"), ("Take  Over", "take over"),
    ("to buy", "buy"), ("threaten sb.", "threaten"), ("blame sb./sth.", "blame"),
    ("make up one's mind", "make up mind"), ("pride oneself", "pride"),
    ("U.S.", "us"), ("TikTok's", "tiktok"), ("e-mail", "e-mail"), ("to", "to"),
])
def test_normalize_key(raw, key):
    assert normalize_key(raw) == key


def test_translations_are_cleaned_and_merged(dictionary):
    buy = dictionary.translations("buy")
    assert set(buy) == {"Kaufobjekt", "Kauf", "Einkauf", "kaufen", "einkaufen", "erwerben",
                        "erstehen", "besorgen"}  # no "etw.", "sich", labels, grammar tags
    assert dictionary.translations("buy sth.") == buy == dictionary.translations("BUY")
    assert dictionary.translations("take over") == ("übernehmen",)
    assert dictionary.translations("threaten") == ("drohen", "bedrohen")
    assert dictionary.translations("user") == ("Benutzer", "Nutzer", "Anwenderin")
    assert dictionary.translations("company") == ("Firma",)  # abbreviation "Fa." dropped
    assert dictionary.translations("the nuts and bolts") == ("das Wesentliche",)
    assert dictionary.translations("cloud") == ("Wolke",)  # 4+ word explanation dropped


def test_examples_synonyms_notes_are_ignored(dictionary):
    everything = {t for key in ("buy", "user", "threaten", "bought") for t in
                  dictionary.translations(key)}
    assert not everything & {"ein guter Kauf", "Erstbenutzer", "androhen", "ich/er/sie kaufte"}
    assert "purchase" not in dictionary and "purchase sth." not in dictionary


def test_parenthesised_forms_are_aliases(dictionary):
    bought = dictionary.translations("bought")
    assert bought[:3] == ("gekauft", "eingekauft", "erworben")  # its own entry comes first
    assert "kaufen" in bought  # then the translations of "buy sth. (bought, bought)"
    assert dictionary.translations("US") == ("Vereinigte Staaten",)
    assert dictionary.translations("united states") == ("Vereinigte Staaten",)


def test_size_unknown_keys_and_long_headwords(dictionary):
    assert dictionary.translations("microsoft") == ()
    assert "buy" in dictionary and "Buy" in dictionary and 42 not in dictionary
    assert "there is no such thing" not in dictionary  # 5+ word headwords are not kept
    assert "00-database-info" not in dictionary and "database info" not in dictionary
    assert len(dictionary) == 10
    assert dictionary.max_phrase_words == 4  # "the nuts and bolts"
    assert not dictionary.from_cache


def test_translations_ranked_by_frequency(tmp_path):
    entries = [(["firm"], "firm /fˈɜːm/\nBetrieb <masc>\n\n"),
               (["firm"], "firm /fˈɜːm/\nFirma <fem>\n\n"),
               (["company"], "company /kˈʌmpəni/\nFirma <fem>\n\n")]
    assert load_dictionary(write_dictd(tmp_path, entries)).translations("firm") == (
        "Firma", "Betrieb")


def test_specialist_senses_rank_last(tmp_path):
    entries = [(["company"], "company /kˈʌmpəni/\nKompanie <fem> [mil.]\n\n"),
               (["company"], "company /kˈʌmpəni/\nUnternehmen <neut> [econ.]\n\n"),
               (["unit"], "unit /jˈuːnɪt/\nKompanie <fem> [mil.]\n\n")]
    assert load_dictionary(write_dictd(tmp_path, entries)).translations("company") == (
        "Unternehmen", "Kompanie")


def test_cache_round_trip(tmp_path):
    index = write_dictd(tmp_path)
    cache = tmp_path / "cache"
    first = load_dictionary(index, cache)
    assert not first.from_cache and len(list(cache.glob("*.marshal"))) == 1
    second = load_dictionary(index, cache)
    assert second.from_cache
    assert second.translations("buy") == first.translations("buy")
    assert second.max_phrase_words == first.max_phrase_words and len(second) == len(first)


def test_cache_is_used_without_reparsing(tmp_path, monkeypatch):
    index, cache = write_dictd(tmp_path), tmp_path / "cache"
    load_dictionary(index, cache)

    def fail(_path):
        raise AssertionError("parsed again")

    monkeypatch.setattr("bot.language.dictionary.parse_dictionary", fail)
    assert load_dictionary(index, cache).translations("take over") == ("übernehmen",)


def test_changed_source_invalidates_cache(tmp_path):
    cache = tmp_path / "cache"
    load_dictionary(write_dictd(tmp_path), cache)
    index = write_dictd(tmp_path, ENTRIES[:3])  # rewritten: other size
    fresh = load_dictionary(index, cache)
    assert not fresh.from_cache and "user" not in fresh
    assert len(list(cache.glob("*.marshal"))) == 1  # the stale cache was replaced


def test_unwritable_cache_dir_is_skipped(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    assert "buy" in load_dictionary(write_dictd(tmp_path), blocker / "cache")


def test_missing_files(tmp_path):
    with pytest.raises(DictionaryError, match="missing.index"):
        load_dictionary(tmp_path / "missing.index")
    index = write_dictd(tmp_path)
    index.with_suffix(".dict.dz").unlink()
    with pytest.raises(DictionaryError, match=r"test-eng-deu\.dict\.dz"):
        load_dictionary(index)


@pytest.mark.parametrize("index_text, body", [
    ("buy\tA!\tB\n", gzip.compress(b"buy\nkaufen\n")),  # "!" is no base64 digit
    ("buy\tA\n", gzip.compress(b"buy\nkaufen\n")),  # two fields
    ("buy\tA\tZZ\n", gzip.compress(b"buy\nkaufen\n")),  # longer than the body
    ("buy\tA\tL\n", gzip.compress(b"buy\nkaufen\n")[:-6]),  # truncated gzip
], ids=["bad-base64", "two-fields", "past-the-end", "truncated-gzip"])
def test_corrupt_files(tmp_path, index_text, body):
    index = tmp_path / "bad.index"
    index.write_text(index_text, encoding="utf-8")
    index.with_suffix(".dict.dz").write_bytes(body)
    with pytest.raises(DictionaryError, match="bad"):
        load_dictionary(index)
    assert issubclass(DictionaryError, ValueError)


def test_dictionary_from_plain_dict():
    small = Dictionary({"Buy sth.": ["kaufen", "erwerben"], "buy": ["kaufen", "Kauf"],
                        "take over": ("übernehmen",)})
    assert small.translations("buy") == ("kaufen", "erwerben", "Kauf")
    assert len(small) == 2 and small.max_phrase_words == 2


def read_dictzip(path: Path, spans: list[tuple[int, int]]) -> list[bytes]:
    """Random access into a dictzip file: inflate only the chunks holding these spans."""
    data = path.read_bytes()
    xlen = struct.unpack_from("<H", data, 10)[0]
    assert data[12:14] == b"RA" and data[3] == 4, "dictzip: FEXTRA with an RA field only"
    chunk_len, count = struct.unpack_from("<HH", data, 18)
    sizes = struct.unpack_from(f"<{count}H", data, 22)
    starts = [12 + xlen + sum(sizes[:i]) for i in range(count)]
    texts = []
    for offset, length in spans:
        first, last = offset // chunk_len, (offset + length - 1) // chunk_len
        inflate = zlib.decompressobj(-zlib.MAX_WBITS)
        text = b"".join(inflate.decompress(data[starts[i]:starts[i] + sizes[i]])
                        for i in range(first, last + 1))
        texts.append(text[offset - first * chunk_len:][:length])
    return texts


@pytest.mark.skipif(not DEFAULT_DICTIONARY.exists(), reason="dict-freedict-eng-deu not installed")
def test_real_freedict_entries(tmp_path):
    """Copy only the real entries we need into a tiny dictd (the full parse takes ~20 s)."""
    wanted = "buy|buy sth|bought|take over sth|user|users"
    index = DEFAULT_DICTIONARY.read_text(encoding="utf-8")
    spans = sorted({(unb64(o), unb64(n)) for o, n in
                    re.findall(rf"^(?:{wanted})\t(\S+)\t(\S+)$", index, re.MULTILINE)})
    texts = read_dictzip(DEFAULT_DICTIONARY.with_suffix(".dict.dz"), spans)
    real = load_dictionary(write_dictd(tmp_path, [(["entry"], t.decode()) for t in texts]))
    assert "kaufen" in real.translations("buy")
    assert "übernehmen" in real.translations("take over")
    assert "Nutzer" in real.translations("user")
    assert "kaufen" in real.translations("bought")


def unb64(text: str) -> int:
    value = 0
    for char in text:
        value = value * 64 + B64.index(char)
    return value
