"""Reader for dictd-format English–German dictionaries (FreeDict ``eng-deu``).

``.index`` lines are ``headword<TAB>offset<TAB>length`` (base64) into the dictzip (= gzip)
``.dict.dz`` body.  An entry is the headword line (IPA; irregular forms or abbreviations in
parentheses), the translation line, then indented examples and ``Synonym:``/``see:``/``Note:``
lines, which are ignored.  German translations lose ``[..]``, ``<..>``, ``(..)``, ``{..}``,
placeholders (``etw.``, ``jdn./etw.``, with a preposition right before them: ``jdm. mit etw.
drohen`` → ``drohen``), the reflexive ``sich`` in phrases, and explanations of 4+ words.  A key's
translations are ranked by how often the German word occurs in the dictionary's translations
(the body is sorted by German headword, so entry order means nothing); phrases count less,
entries labelled with a news field (``[pol.]``, ``[econ.]`` ...) a bit more, and entries labelled
with a field outside the news (``[mil.]``, ``[zool.]`` ...) much less.
"""

from __future__ import annotations

import gzip
import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import cast

from bot.errors import DictionaryError
from bot.language import cache

log = logging.getLogger(__name__)
PROGRESS_SECONDS = 2.0  # a first parse takes ~20 s: say how far it got this often
DEFAULT_DICTIONARY = Path("/usr/share/dictd/freedict-eng-deu.index")
MAX_KEY_WORDS = 4  # longer headwords are sentences/idioms that questions never contain
MAX_TRANSLATIONS = 10  # per key, most common first
_VERSION = 5  # bump when parsing changes: invalidates caches
_B64 = {c: i for i, c in enumerate(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}

WORD_RE = re.compile(r"(?:[^\W_]\.){2,}|[^\W_]+(?:['’\-][^\W_]+)*")
_SIMPLE = re.compile(r"[A-Za-z]+(?: [A-Za-z]+)*")
_PLACEHOLDER_EN = re.compile(
    r"(?<![\w.])(?:(?:sb|sth)\.(?:/(?:sb|sth)\.)*(?:'s)?|so\.|one's|oneself)(?!\w)")
_PLACEHOLDER_DE = re.compile(
    r"(?:etw|jd|jdm|jdn|jds|jmd|jmdm|jmdn|jmds|sb|sth)\.(?:/(?:etw|jd|jdm|jdn|jds|sb|sth)\.)*"
    r"[),]?")
_PREPOSITIONS = frozenset("an auf aus bei durch für gegen hinter in mit nach neben ohne über "
                          "um unter von vor zu zwischen".split())
_IPA = re.compile(r"(?<!\S)/[^/\s,][^/]*/(?=[\s,]|$)")
_BRACKETS = ((re.compile(r"<[^<>]*>"), ","), (re.compile(r"\[[^\[\]]*\]"), " "),
             (re.compile(r"\([^()]*\)"), " "), (re.compile(r"\{[^{}]*\}"), " "))
_HEAD_SPLIT, _TAGS = re.compile(r" /(?=\S)"), re.compile(r"<[^<>]*>|\[[^\[\]]*\]")
_LABEL = re.compile(r"\[([^\[\]]+)\]")
_FIELD_WEIGHT = (1.5, 1.0, 0.25)  # entries labelled with a news field / other / specialist field
_NEWS = frozenset("pol. econ. fin. jur. adm. comp. soc. telco. envir.".split())
_SPECIALIST = frozenset("""mil. art zool. bot. ornith. med. anat. biol. biochem. chem. geol.
min. mus. relig. sport naut. textil. cook. agr. astron. astrol. ling. math. phys. pharm. hist. lit.
poet. obs. humor. vulg. archaic arch. print photo. mach. constr. electr. myc. veraltet
veraltend selten dated rare alt altertümlich Jägersprache Kindersprache""".split())
_PARENS, _SLASHED = re.compile(r"\([^()]*\)"), re.compile(r"/[^/]*/")


def key_words(text: str) -> list[str]:
    """Casefolded words of an English phrase without placeholders: "U.S." → "us"."""
    if _SIMPLE.fullmatch(text) and "oneself" not in text:  # fast path for plain words
        return text.casefold().split()
    text = _PLACEHOLDER_EN.sub(" ", text.casefold().replace("’", "'"))
    words = [m.replace(".", "") for m in WORD_RE.findall(text)]
    return [w[:-2] if w.endswith("'s") and len(w) > 2 else w for w in words]


def normalize_key(text: str) -> str:
    """Normalize an English lookup key: ``"to Take over sth."`` → ``"take over"``."""
    words = key_words(text)
    return " ".join(words[1:] if len(words) > 1 and words[0] == "to" else words)


class Dictionary:
    """English key → German translations (most common first)."""

    def __init__(self, entries: Mapping[str, Iterable[str]], *, normalized: bool = False,
                 max_phrase_words: int | None = None, from_cache: bool = False) -> None:
        """Build from a plain mapping (keys normalized unless ``normalized`` is true)."""
        self._entries: dict[str, tuple[str, ...]]
        if normalized:  # trusted (parsed or cached) mapping of tuples: use as is
            trusted = cast(Mapping[str, tuple[str, ...]], entries)
            self._entries = trusted if isinstance(trusted, dict) else dict(trusted)
        else:
            merged: dict[str, dict[str, None]] = {}
            for key, values in entries.items():
                merged.setdefault(normalize_key(key), {}).update(dict.fromkeys(values))
            self._entries = {k: tuple(v) for k, v in merged.items() if k}
        if max_phrase_words is None:
            max_phrase_words = max((k.count(" ") + 1 for k in self._entries), default=0)
        self.max_phrase_words = max_phrase_words
        self.from_cache = from_cache

    def translations(self, key: str) -> tuple[str, ...]:
        """Translations of ``key`` (normalized first); empty tuple when unknown."""
        return self._entries.get(normalize_key(key), ())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and normalize_key(key) in self._entries

    def __len__(self) -> int:
        return len(self._entries)


def _headword_keys(line: str) -> tuple[list[str], list[str]]:
    """(headword keys, alias keys: irregular forms or abbreviations in parentheses)."""
    match = _HEAD_SPLIT.search(line)
    head, rest = (line[:match.start()], line[match.end():]) if match else (line, "")
    head = _TAGS.sub(" ", head) if "<" in head or "[" in head else head
    # Optional parts: "take to (the) streets", "colo(u)red" → both variants.
    variants = [_PARENS.sub(" ", head), head.replace("(", "").replace(")", "")]
    keys = [normalize_key(v) for v in (variants if "(" in head else [head])]
    aliases: list[str] = []
    if "(" in rest:  # "(bought /bɔːt/ <>, bought ...)" or "(US /juːɛs/)"
        for group in _PARENS.findall(_SLASHED.sub(" ", "/" + rest)):
            aliases.extend(normalize_key(a) for a in _TAGS.sub(" ", group[1:-1]).split(","))
    return list(dict.fromkeys(k for k in keys if k)), [a for a in aliases if a]


def _clean_translations(text: str) -> list[str]:
    """Split a translation line into cleaned German words/phrases (at most 3 words each)."""
    text = _IPA.sub(",", text) if "/" in text else text
    previous = None
    while previous != text and any(c in text for c in "<[({"):
        previous = text
        for pattern, replacement in _BRACKETS:
            text = pattern.sub(replacement, text)
    result: list[str] = []
    for item in re.split(r"[,;]", text):
        raw, tokens = item.split(), list[str]()
        for token in raw:
            if ("." in token and _PLACEHOLDER_DE.fullmatch(token)) or (
                    token == "sich" and len(raw) > 1):
                if tokens and tokens[-1].casefold() in _PREPOSITIONS:
                    tokens.pop()  # "mit etw." → nothing
            elif token := token.strip("\"'“”„…()[]{}<>"):
                tokens.append(token)
        if not tokens or len(tokens) > 3:
            continue  # long phrases are explanations, not translations
        if len(tokens) == 1 and tokens[0].endswith(".") and not tokens[0][:-1].islower():
            continue  # German abbreviation like "Fa." or "Ges."
        phrase = " ".join(tokens).rstrip(".!?:…")
        if phrase not in result and any(c.isalnum() for c in phrase):
            result.append(phrase)
    return result


def _b64(text: str) -> int:
    value = 0
    for char in text:
        value = value * 64 + _B64[char]
    return value


def _read_source(index_path: Path) -> tuple[list[tuple[int, int]], bytes]:
    """Sorted unique (offset, length) spans of the index, and the uncompressed body."""
    body_path = index_path.with_suffix(".dict.dz")
    try:
        lines = index_path.read_text(encoding="utf-8").splitlines()
        spans = sorted({(_b64(o), _b64(n)) for _, o, n in (ln.split("\t") for ln in lines)})
        raw = body_path.read_bytes()
        body = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    except (KeyError, ValueError) as exc:  # bad base64 digit / not 3 fields / not UTF-8
        raise DictionaryError(f"corrupt dictionary index {index_path}: {exc!r}") from exc
    except (OSError, EOFError) as exc:  # includes gzip.BadGzipFile
        raise DictionaryError(f"cannot read dictionary body {body_path}: {exc}") from exc
    if not spans or max(o + n for o, n in spans) > len(body):
        raise DictionaryError(f"{body_path} does not match its index {index_path}")
    return spans, body


def parse_dictionary(
    index_path: Path, progress: Callable[[int, int], None] | None = None
) -> dict[str, tuple[str, ...]]:
    """Parse dictd files into a plain ``{normalized key: translations}`` mapping;
    ``progress(done, total)`` is called every PROGRESS_SECONDS while it runs."""
    spans, body = _read_source(index_path)
    next_report = time.monotonic() + PROGRESS_SECONDS
    primary: dict[str, list[tuple[int, str]]] = {}  # (field rank, translation)
    alias: dict[str, list[tuple[int, str]]] = {}
    frequency: Counter[str] = Counter()
    for done, (offset, length) in enumerate(spans):
        if progress and not done % 2048 and time.monotonic() >= next_report:
            progress(done, len(spans))
            next_report = time.monotonic() + PROGRESS_SECONDS
        head, _, text = body[offset:offset + length].decode("utf-8", "replace").partition("\n")
        if not head or head.startswith("00-database"):
            continue
        keys, aliases = _headword_keys(head)
        keys = [k for k in keys if k.count(" ") < MAX_KEY_WORDS]
        aliases = [k for k in aliases if k.count(" ") < MAX_KEY_WORDS]
        if not keys and not aliases:
            continue
        line = ", ".join(ln for ln in text.split("\n") if ln and not ln.startswith(("  ", " see:")))
        translations = _clean_translations(line)
        frequency.update({w for t in translations for w in t.split()})
        labels = set(_LABEL.findall(line)) if "[" in line else set()
        rank = 0 if labels & _NEWS else 2 if labels & _SPECIALIST else 1
        for target, names in ((primary, keys), (alias, aliases)):
            for key in names:
                target.setdefault(key, []).extend((rank, t) for t in translations)
    base = {t: min(frequency[w] for w in t.split()) / (t.count(" ") + 1)
            for values in (*primary.values(), *alias.values()) for _, t in values}
    result: dict[str, tuple[str, ...]] = {}
    for key in primary.keys() | alias.keys():
        ranked: list[str] = []
        for values in (primary.get(key, ()), alias.get(key, ())):
            best: dict[str, float] = {}
            for rank, t in values:
                best[t] = max(best.get(t, 0.0), base[t] * _FIELD_WEIGHT[rank])
            ranked += sorted(best, key=best.__getitem__, reverse=True)
        if ranked:
            result[key] = tuple(dict.fromkeys(ranked))[:MAX_TRANSLATIONS]
    return result


def load_dictionary(index_path: Path = DEFAULT_DICTIONARY, cache_dir: Path | None = None,
                    announce: Callable[[str], None] | None = None) -> Dictionary:
    """Load a dictd dictionary, from/into a marshal cache in ``cache_dir`` when given.
    Parsing takes a while, so it is logged at INFO (and told to ``announce``) as it starts
    and every few seconds."""
    index_path = Path(index_path)
    if not index_path.is_file():
        raise DictionaryError(f"dictionary index not found: {index_path}")
    path = None
    if cache_dir is not None:
        sources = [index_path, index_path.with_suffix(".dict.dz")]
        path = cache.cache_path(sources, Path(cache_dir), f"{index_path.stem}.v{_VERSION}")
        cached = cache.read(path)
        if isinstance(cached, tuple) and len(cached) == 2 and isinstance(cached[1], dict):
            return Dictionary(cached[1], normalized=True, max_phrase_words=cached[0],
                              from_cache=True)
    def say(message: str) -> None:
        log.info("%s", message)
        if announce:
            announce(message)

    say("preparing the English dictionary (first start only) …")
    entries = parse_dictionary(
        index_path, lambda done, total: say(f"… {done:,} of {total:,} dictionary entries")
    )
    dictionary = Dictionary(entries, normalized=True)
    if path is not None:
        cache.write(path, (dictionary.max_phrase_words, entries))
    return dictionary
