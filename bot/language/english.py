"""English question analysis: language detection and English → German query terms.

:func:`translate_question` turns "Who wants to take over TikTok's US business?" into synonym
groups ``[("wants", "wünscht"), ("take over", "übernehmen"), ("TikTok",), ("US", "USA",
"Vereinigte Staaten"), ("business", "Sache", "Betrieb", "Geschäft", ...)]``: the original word
or dictionary phrase first, then its translations; the caller analyses (stems) each member.
Capitalized words inside a sentence are names and stay untranslated ("Trump", not "Trumpf").
"""

from __future__ import annotations

import re

from bot.language.dictionary import Dictionary

MAX_GROUP_TRANSLATIONS = 12

ENGLISH_STOPWORDS = frozenset("""
a an the this that these those i me my mine you your yours he him his she her hers it its we us
our ours they them their theirs who whom whose what which when where why how whats is are was
were be been being am do does did done doing have has had having will would shall should can
could may might must not no to of in on at by for with from about into onto over under
up down out off after before between through during against without within than then there here
and or but if so as because while also just very too many much more most some any all each
every other such both either neither only same s d ll re ve m don't doesn't didn't isn't
aren't wasn't weren't won't can't couldn't wouldn't shouldn't hasn't haven't hadn't let's
want wants wanted happen happens happened called tell know please anything something
""".split())
ACRONYMS = {"us": ("USA", "Vereinigte Staaten"), "usa": ("Vereinigte Staaten",),
            "uk": ("Großbritannien",), "eu": ("Europäische Union",), "un": ("Vereinte Nationen",)}
PARTICLES = frozenset("over up out off down in on away back through along".split())

# Words that (almost) only occur in one language.  Shared words (in, was, will, die, so, an,
# also, man, war, hat, am, bin) lean German a little: "Was will Microsoft?" is German.
_EN_WORDS = frozenset("""
who whom whose what which when where why how the a of is are were be been does did do has have
had would could should shall can must to and or with from for by about this that these those
there their they them he she it its you your we our my not no any some many much more most
than then after before into over under if because while
""".split())
# Common English news words; they count only when written in lower case (German: "der Plan").
_EN_LOWER = frozenset("""
new first last year years week people world company companies government president users user
buy buys bought sell sells sold pay pays paid own owns owned want wants wanted take takes took
taken say says said make makes made get gets got give gave happen happened plan plans planned
ban bans banned block blocked deal deals cost costs price worth money billion million deadline
""".split())
_DE_WORDS = frozenset("""
wer wen wem wessen wie wo wann warum wieso weshalb welche welcher welches welchen welchem
woher wohin womit wofür worüber ist sind wird werden wurde wurden hat haben hatte hatten kann
können muss müssen soll sollen darf möchte möchten der den dem des das ein eine einen einem
einer eines und oder aber nicht kein keine mit von vom für auf aus bei nach über zu zum zur im
ins um durch gegen ohne sich es er sie wir ihr ihm ihn ihre sein seine noch schon auch nur
sehr viel viele wieviel gibt geht kauft kaufen wollen neue neuen jahr jahre
unternehmen firma regierung präsident nutzer daten verbot
""".split())
_SHARED_DE = frozenset("was will die so an also man war hat am in bin".split())
_DE_PATTERN = re.compile(r"[äöüß]|sch|ung$|keit$|heit$|lich$|isch$|tz", re.IGNORECASE)
_EN_PATTERN = re.compile(r"(?:ing|tion|ness|ly)$")

TOKEN_RE = re.compile(r"\d+(?:[.,:]\d+)*%?|(?:[^\W\d_]\.){2,}|[^\W_]+(?:['’\-][^\W_]+)*"
                      r"(?:\.[a-z]{2,}(?![\w.]))?")  # numbers, U.S., TikTok's, Musical.ly
_ABBREVIATION = re.compile(r"(?:[^\W\d_]\.){2,}")
_BOUNDARY = re.compile(r"[,;:.!?()\[\]\"“”]")

IRREGULAR = {
    "bought": "buy", "sold": "sell", "took": "take", "taken": "take", "said": "say",
    "made": "make", "went": "go", "gone": "go", "got": "get", "gotten": "get", "gave": "give",
    "given": "give", "paid": "pay", "saw": "see", "seen": "see", "came": "come", "knew": "know",
    "known": "know", "thought": "think", "told": "tell", "found": "find", "left": "leave",
    "kept": "keep", "held": "hold", "brought": "bring", "began": "begin", "begun": "begin",
    "ran": "run", "wrote": "write", "written": "write", "spoke": "speak", "spoken": "speak",
    "won": "win", "lost": "lose", "spent": "spend", "sent": "send", "built": "build",
    "met": "meet", "led": "lead", "felt": "feel", "stood": "stand", "understood": "understand",
    "chose": "choose", "chosen": "choose", "fell": "fall", "fallen": "fall", "grew": "grow",
    "grown": "grow", "rose": "rise", "risen": "rise", "drove": "drive", "driven": "drive",
    "broke": "break", "broken": "break", "stole": "steal", "stolen": "steal", "sought": "seek",
    "fought": "fight", "caught": "catch", "taught": "teach", "heard": "hear", "meant": "mean",
    "became": "become", "shown": "show", "struck": "strike", "sank": "sink", "sunk": "sink",
    "flew": "fly", "flown": "fly", "forbade": "forbid", "forbidden": "forbid", "hid": "hide",
    "hidden": "hide", "shook": "shake", "shaken": "shake", "ate": "eat", "eaten": "eat",
}
PARTICIPLES = {base: form for form, base in IRREGULAR.items()}  # take → taken (the last form)
IRREGULAR |= {
    "men": "man", "women": "woman", "children": "child", "people": "person", "feet": "foot",
    "mice": "mouse", "teeth": "tooth", "better": "good", "best": "good", "worse": "bad",
    "worst": "bad",
}


def detect_language(text: str) -> str:
    """Return "en" or "de" for a short question; ties and bare names count as German."""
    if any(c in "äöüßÄÖÜ" for c in text):
        return "de"
    english = german = 0.0
    for token in TOKEN_RE.findall(text):
        word = token.casefold()
        if word in _EN_WORDS or token in _EN_LOWER:
            english += 1
        elif word in _DE_WORDS:
            german += 1
        elif word in _SHARED_DE:
            german += 0.5  # "Was will ...": German unless English function words win
        elif token.isalpha() and token.islower():  # not names: "Beijing", "Schmidt"
            english += 0.5 * bool(_EN_PATTERN.search(word))
            german += 0.5 * bool(_DE_PATTERN.search(word))
    return "en" if english > german else "de"


def _cvc(stem: str) -> bool:
    """Short stem needing a final "e" (tak-ing → take, us-ed → use)?"""
    vowels = "aeiou"
    if len(stem) <= 2:
        return len(stem) == 2 and stem[0] in vowels and stem[1] not in vowels
    return (stem[-3] not in vowels and stem[-2] in vowels and stem[-1] not in vowels + "wxy")


def lemma_candidates(word: str) -> list[str]:
    """Candidate base forms of an English word, best first, starting with the word itself."""
    w = word.casefold()
    out = [w]
    if w in IRREGULAR:
        out.append(IRREGULAR[w])
    for suffix in ("ing", "ed"):
        stem = w[: -len(suffix)]
        if (w.endswith(suffix) and len(stem) >= 2 and any(c in "aeiouy" for c in stem)
                and not w.endswith("eed")):  # need, speed
            if suffix == "ing" and stem.endswith("y") and len(stem) == 2:
                out.append(stem[0] + "ie")  # dying → die, lying → lie
            if suffix == "ed" and stem.endswith("i"):
                out.append(stem[:-1] + "y")  # studied → study
            out.extend([stem + "e", stem] if _cvc(stem) else [stem, stem + "e"])
            if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] not in "lsfz":
                out.append(stem[:-1])  # planned → plan, running → run
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        if w.endswith("ies"):
            out.append(w[:-3] + "y")
        out.append(w[:-1])
        if w.endswith(("ches", "shes", "xes", "ses", "zes", "oes")):
            out.append(w[:-2])
    return list(dict.fromkeys(out))


def tokenize(text: str) -> list[tuple[str, bool]]:
    """Words with a flag "starts a new clause"; "TikTok's" → "TikTok", "U.S." → "US"."""
    tokens: list[tuple[str, bool]] = []
    end = 0
    for match in TOKEN_RE.finditer(text.replace("’", "'")):
        word = match.group()
        if _ABBREVIATION.fullmatch(word):
            word = word.replace(".", "")
        if word.endswith("'s") and len(word) > 2:
            word = word[:-2]
        tokens.append((word, not tokens or bool(_BOUNDARY.search(text, end, match.start()))))
        end = match.end()
    return tokens


def _is_acronym(word: str) -> bool:
    return len(word) > 1 and word.isupper()


def _is_stopword(word: str) -> bool:
    return word.casefold() in ENGLISH_STOPWORDS and not _is_acronym(word)


def _is_name(word: str, clause_start: bool) -> bool:
    """Capitalized inside a sentence ("Trump", "TikTok", "Apple"): keep it, don't translate."""
    return not clause_start and word[0].isupper() and not word.isupper()


def _participles(base: str) -> list[str]:
    """Possible past participles of an English verb: take → taken, ban → banned."""
    if base in PARTICIPLES:
        return [PARTICIPLES[base]]
    forms = [base + "d" if base.endswith("e") else base + "ed"]
    if len(base) > 2 and base[-1] == "y" and base[-2] not in "aeiou":
        forms.append(base[:-1] + "ied")
    if _cvc(base):
        forms.append(base + base[-1] + "ed")
    return forms


def _word_translations(word: str, dictionary: Dictionary) -> list[str]:
    """The word's translations, plus its base form's (buying → buy) and the base's past
    participle's (threaten → threatened: "gedroht"), which German news often use."""
    found = [c for c in lemma_candidates(word) if c in dictionary]
    if not found:
        return []
    w = word.casefold()
    forms = found[:2] if found[0] == w and (w.endswith(("ing", "ed")) or w in IRREGULAR) \
        else found[:1]
    if any(t.islower() and t.endswith(("en", "rn", "ln")) for t in dictionary.translations(
            forms[-1])):  # a verb (German infinitive among the translations)
        forms += [p for p in _participles(forms[-1]) if p in dictionary][:1]
    forms = list(dict.fromkeys(forms))
    share = MAX_GROUP_TRANSLATIONS // len(forms)
    return [t for form in forms for t in dictionary.translations(form)[:share]]


def _phrase(tokens: list[tuple[str, bool]], i: int,
            dictionary: Dictionary) -> tuple[int, tuple[str, ...]]:
    """Longest dictionary phrase starting at token i: (number of tokens, translations)."""
    longest = min(dictionary.max_phrase_words, len(tokens) - i)
    for size in range(longest, 1, -1):
        window = [w for w, _ in tokens[i:i + size]]
        last = window[-1].casefold()
        if any(start for _, start in tokens[i + 1:i + size]) or (
                _is_stopword(window[-1]) and last not in PARTICLES):
            continue
        middle = " ".join(window[1:-1])
        for first in lemma_candidates(window[0])[:4]:
            for end in lemma_candidates(window[-1])[:3]:
                found = dictionary.translations(" ".join(filter(None, (first, middle, end))))
                if found:  # take over → übernehmen, + taken over → übernommen
                    for participle in _participles(first):
                        more = dictionary.translations(f"{participle} {middle} {end}")
                        if more:
                            return size, found[:MAX_GROUP_TRANSLATIONS // 2] + more
                    return size, found
    return 1, ()


def translate_question(question: str,
                       dictionary: Dictionary | None) -> list[tuple[str, ...]]:
    """English question → synonym groups: the original word/phrase, then German translations.

    Stopwords are dropped; numbers, names and unknown words stay as one-member groups.
    """
    tokens = tokenize(question.lower() if question.isupper() else question)  # no SHOUTING
    groups: list[tuple[str, ...]] = []
    i = 0
    while i < len(tokens):
        word, start = tokens[i]
        if _is_stopword(word):
            i += 1
            continue
        size, translations = 1, tuple[str, ...]()
        if dictionary is None or word[0].isdigit():
            pass
        elif word.casefold() in ACRONYMS and _is_acronym(word):
            translations = ACRONYMS[word.casefold()]  # US → USA; "WHO", "IT" stay as they are
        else:
            size, translations = _phrase(tokens, i, dictionary)
            if size == 1 and not _is_name(word, start) and not (
                    _is_acronym(word) and word.casefold() in ENGLISH_STOPWORDS):
                translations = tuple(_word_translations(word, dictionary))
        original = " ".join(w for w, _ in tokens[i:i + size])
        members = tuple(dict.fromkeys([original, *translations]))
        groups.append(members[:MAX_GROUP_TRANSLATIONS + 1])
        i += size
    return groups
