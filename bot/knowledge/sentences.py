"""German sentence splitting: where a period ends a sentence and where it doesn't."""

from __future__ import annotations

import re

# Abbreviations after which a period does not end a German sentence.
ABBREVIATIONS = frozenset(
    "z.b zb u.a ua d.h dh bzw usw etc ca nr dr prof st vgl inkl ggf evtl mio mrd "
    "tsd jh jhd chr bspw sog abs art str tel dt engl franz mr mrs ms vs no jan feb "
    "mär apr jun jul aug sep sept okt nov dez hr fr co".split()
)
SENTENCE_END_RE = re.compile(r"[.!?…]+[»«\"“”'’)]*\s+(?=[\"„“«»(]?[A-ZÄÖÜ0-9])")


def split_sentences(text: str) -> list[str]:
    """Split German prose into sentences, never inside abbreviations, ordinals or names."""
    sentences: list[str] = []
    start = 0
    for match in SENTENCE_END_RE.finditer(text):
        before = text[start : match.start() + 1]
        last_word = re.search(r"(\S+)$", before[:-1] if before.endswith(".") else "")
        if match.group().startswith(".") and last_word:
            word = last_word.group(1).lower().strip("(«»\"„“")
            if word.rstrip(".") in ABBREVIATIONS or re.fullmatch(r"\d{1,2}|[a-zäöü]", word):
                continue  # "z.B. Apple", "Nr. 5", "am 5. August", "Donald J. Trump"
        sentences.append(text[start : match.end()].strip())
        start = match.end()
    if text[start:].strip():
        sentences.append(text[start:].strip())
    return sentences
