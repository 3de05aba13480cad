"""Reply formatting: answers as plain text, JSON, or Telegram HTML, in the asker's language.

The bot's own words come in German or English; passages stay exactly as written.
"""

from __future__ import annotations

import heapq
import html
import json
from collections.abc import Callable, Collection

from bot.indexing.loading import example_question
from bot.knowledge.articles import Article
from bot.knowledge.passages import Passage
from bot.language.german import TOKEN_RE
from bot.search.engine import Answers, Engine

TELEGRAM_LIMIT = 4096

TEXTS: dict[str, dict[str, str]] = {
    "de": {
        "source": "Quelle",
        "more": "Mehr dazu",
        "no_answer": "Dazu steht nichts in den Nachrichten, die ich kenne.",
        "hedge": "Genau das steht nicht in den Nachrichten – am nächsten kommt das:",
        "suggest": "Ich kenne diese Artikel:",
        "example": "Fragen Sie zum Beispiel:",
        "no_more": "Mehr steht dazu nicht in den Nachrichten.",
        "text_only": "Ich beantworte Fragen als Text — schreiben Sie mir einfach Ihre Frage.",
        "error": "Entschuldigung, da ist etwas schiefgegangen. Bitte fragen Sie gleich noch mal.",
        "empty": "Bitte stellen Sie eine Frage zu den Nachrichten, z. B.: {example}",
        "cut": "(Ihre Frage war sehr lang; ich habe die ersten {limit} Zeichen gelesen.)",
        "slow_down": "Sie fragen sehr schnell — ich beantworte Ihre Fragen gleich der Reihe nach.",
        "ask_usage": "So fragen Sie hier: /ask <Ihre Frage>",
        "unknown_command": "Diesen Befehl kenne ich nicht — /help zeigt, wie Sie fragen.",
    },
    "en": {
        "source": "Source",
        "more": "More on this",
        "no_answer": "The news I know doesn't say anything about that.",
        "hedge": "The news doesn't say exactly; the closest is:",
        "suggest": "I know these articles:",
        "example": "Try asking, for example:",
        "no_more": "The news says nothing more about that.",
        "text_only": "I answer text questions — just type your question.",
        "error": "Sorry, something went wrong. Please ask again in a moment.",
        "empty": "Please ask a question about the news, e.g.: {example}",
        "cut": "(Your question was very long; I read the first {limit} characters.)",
        "slow_down": "You're asking very fast — I'll answer your questions in turn.",
        "ask_usage": "Ask here like this: /ask <your question>",
        "unknown_command": "I don't know that command — /help shows how to ask.",
    },
}


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def text(key: str, language: str, **values: object) -> str:
    """One of the bot's own sentences in German ("de") or English ("en")."""
    return TEXTS.get(language, TEXTS["de"])[key].format(**values)


def source_line(passage: Passage | Article, language: str = "de") -> str:
    """'Quelle: <title> — <DATELINE>, <date>' (parts that are missing are left out)."""
    where = ", ".join(part for part in (passage.dateline, passage.date) if part)
    return f"{text('source', language)}: {passage.title}" + (f" — {where}" if where else "")


def source_html(passage: Passage, language: str = "de") -> str:
    """The source line in Telegram HTML; the title links to the article when it has a web
    address (http or https only)."""
    line = html.escape(source_line(passage, language), quote=False)
    url = passage.url
    if not url or not url.lower().startswith(("http://", "https://")):
        return line
    head = html.escape(f"{text('source', language)}: ", quote=False)
    title = html.escape(passage.title, quote=False)
    link = f'<a href="{html.escape(url, quote=True)}">{title}</a>'
    return head + link + line[len(head) + len(title) :]


def plain_answers(answers: Answers, show_scores: bool = True) -> str:
    """Answers for people in a terminal: each passage, its source, its score."""
    if not answers.found:
        return text("no_answer", answers.language)
    blocks = [text("hedge", answers.language)] if answers.hedged else []
    for rank, hit in enumerate(answers.hits, 1):
        places = "+".join(f"#{p.position}" for p in hit.shown)
        score = f"  [score {hit.score:.2f}, {hit.passage.article} {places}]"
        answer = (f"\n   » {hit.sentence}" if hit.sentence and hit.sentence != hit.text
                  else "")
        blocks.append(
            f"{rank}. {hit.text}{answer}\n   {source_line(hit.passage, answers.language)}"
            + (score if show_scores else "")
        )
    return "\n\n".join(blocks)


def json_answers(answers: Answers) -> str:
    """Exactly one JSON line for a question (the `ask --json` contract)."""
    return json.dumps(
        {
            "question": answers.question,
            "language": answers.language,
            "sure": answers.sure if answers.found else False,
            "answers": [
                {
                    "text": h.text,
                    "sentence": h.sentence or h.text,
                    "score": round(h.score, 4),
                    "article": h.passage.article,
                    "title": h.passage.title,
                    "date": h.passage.date,
                    "dateline": h.passage.dateline,
                    "passage": h.passage.position,
                    "passages": [p.position for p in h.shown],
                    "url": h.passage.url,
                }
                for h in answers.hits
            ],
        },
        ensure_ascii=False,
    )


def highlight_html(passage_text: str, is_match: Callable[[str], bool],
                   mark: tuple[int, int] | None = None) -> str:
    """Escape a passage for Telegram HTML, put the words that matched in <b> and underline
    the characters of `mark` (the answering sentence), never splitting a word."""
    spans = _word_spans(passage_text)
    if mark:  # the mark's ends move out of any word they fall into
        start, end = mark
        start = next((a for a, b in spans if a < start < b), start)
        end = next((b for a, b in spans if a < end < b), end)
        mark = (start, min(end, len(passage_text))) if start < end else None
    out, pos = [], 0
    tags = [(mark[0], "<u>"), (mark[1], "</u>")] if mark else []

    def plain(upto: int) -> None:  # the text up to a word (or the end), with due tags
        nonlocal pos
        while tags and pos <= tags[0][0] <= upto:
            at, tag = tags.pop(0)
            out.append(html.escape(passage_text[pos:at], quote=False) + tag)
            pos = at
        out.append(html.escape(passage_text[pos:upto], quote=False))
        pos = upto

    for start, end in spans:
        plain(start)
        chunk = html.escape(passage_text[start:end], quote=False)
        out.append(f"<b>{chunk}</b>" if is_match(passage_text[start:end]) else chunk)
        pos = end
    plain(len(passage_text))
    return "".join(out)


def _word_spans(passage_text: str) -> list[tuple[int, int]]:
    return [m.span() for m in TOKEN_RE.finditer(passage_text)]


def answer_html(
    passage: Passage, language: str, is_match: Callable[[str], bool], limit: int = TELEGRAM_LIMIT,
    sentence: str = "", shown: str | None = None, hedge: bool = False,
) -> str:
    """A Telegram HTML message: the answer (`shown`, by default the passage) with matches in
    bold and the sentence that answers underlined (when the answer has more than that one),
    then its source line; under the hedge line when the news doesn't say exactly.

    Too long for Telegram (which counts UTF-16 units, an emoji is two)? The passage is cut at
    a word boundary before highlighting, so tags and entities stay whole and bold stays bold.
    """
    source = f"\n\n<i>{source_html(passage, language)}</i>"
    answer = passage.text if shown is None else shown
    at = answer.find(sentence) if sentence and sentence != answer.strip() else -1
    mark = (at, at + len(sentence)) if at >= 0 else None
    head = f"<i>{html.escape(text('hedge', language), quote=False)}</i>\n\n" if hedge else ""
    text_, body = answer, highlight_html(answer, is_match, mark)
    room = limit - utf16_len(source) - utf16_len(head)
    while utf16_len(body) > room:
        share = room / utf16_len(body)  # markup and escaping grow with the text: shrink alike
        cut = text_[: max(0, min(len(text_) - 1, int(len(text_) * share * 0.98) - 1))]
        text_ = cut[: cut.rfind(" ")] if " " in cut else cut
        kept = (mark[0], min(mark[1], len(text_))) if mark and mark[0] < len(text_) else None
        body = highlight_html(text_, is_match, kept) + "…"
    return head + body + source


def no_answer_html(articles: Collection[Article], language: str, example: str) -> str:
    """Say plainly that the news doesn't answer, and what the bot does know."""
    return (
        f"{text('no_answer', language)}\n\n{text('suggest', language)}\n"
        f"{_article_list(articles, limit=10)}\n\n"
        f"{text('example', language)} <i>{html.escape(example, quote=False)}</i>"
    )


def matcher(analyze: Callable[[str], list[str]], terms: Collection[str]) -> Callable[[str], bool]:
    """A predicate: does this word of a passage analyse to one of the question's terms?"""
    wanted = set(terms)
    return lambda word: bool(wanted.intersection(analyze(word)))


def _article_list(articles: Collection[Article], limit: int = 20) -> str:
    """The newest `limit` articles, one a line (titles are at most ~120 characters)."""
    newest = heapq.nlargest(limit, articles, key=lambda a: a.date or "")
    lines = [
        f"• {html.escape(a.title, quote=False)}" + (f" ({html.escape(a.date)})" if a.date else "")
        for a in newest
    ]
    if len(articles) > limit:
        lines.append(f"… (+{len(articles) - limit})")
    return "\n".join(lines)


def welcome_html(articles: Collection[Article], language: str, examples: list[str]) -> str:
    """/start: greet, say what the bot knows, give two example questions."""
    if language == "en":
        head = ("Hello! I answer questions about the news with the passage that says so, "
                "and its source. I know these articles:")
    else:
        head = ("Hallo! Ich beantworte Fragen zu den Nachrichten mit der Textstelle, die es "
                "sagt, und ihrer Quelle. Ich kenne diese Artikel:")
    asks = "\n".join(f"<i>{html.escape(e, quote=False)}</i>" for e in examples)
    return f"{head}\n{_article_list(articles)}\n\n{text('example', language)}\n{asks}"


def help_html(language: str, username: str) -> str:
    """/help: how to ask in a private chat, in groups and inline."""
    name = html.escape(username)
    if language == "en":
        return (
            "<b>How to ask</b>\nWrite your question as a message, in German or English. "
            "I answer with the best passage of the news and its source; "
            f"“{text('more', 'en')}” shows the next one.\n\n<b>In groups</b>\n"
            f"/ask &lt;question&gt;, mention me (@{name} &lt;question&gt;) or reply to my "
            f"message.\n\n<b>In any chat</b>\nType @{name} &lt;question&gt; and pick a "
            "passage.\n\n/sources lists the articles I know."
        )
    return (
        "<b>So fragen Sie</b>\nSchreiben Sie Ihre Frage als Nachricht, auf Deutsch oder "
        "Englisch. Ich antworte mit der passendsten Textstelle und ihrer Quelle; "
        f"„{text('more', 'de')}“ zeigt die nächste.\n\n<b>In Gruppen</b>\n"
        f"/ask &lt;Frage&gt;, erwähnen Sie mich (@{name} &lt;Frage&gt;) oder antworten Sie "
        f"auf meine Nachricht.\n\n<b>In jedem Chat</b>\nTippen Sie @{name} &lt;Frage&gt; "
        "und wählen Sie eine Textstelle.\n\n/sources zeigt die Artikel, die ich kenne."
    )


def sources_html(articles: Collection[Article], language: str) -> str:
    """/sources: the articles the bot knows, with dates and datelines."""
    head = "Articles I know:" if language == "en" else "Artikel, die ich kenne:"
    return f"{head}\n{_article_list(articles, limit=25)}"


def inline_results(engine: Engine, query: str, language: str) -> list[dict[str, str]]:
    """Inline mode: up to 5 passages (id, title, description, html); a hint when empty."""
    if not query or not any(ch.isalnum() for ch in query):
        example = example_question(engine, language)
        hint = text("empty", language, example=example)
        return [{"id": "hint", "title": text("example", language), "description": example,
                 "html": html.escape(hint, quote=False)}]
    answers = engine.ask(query, k=5)
    if not answers.found:
        message = text("no_answer", answers.language)
        return [{"id": "none", "title": message, "description": query[:100],
                 "html": html.escape(message, quote=False)}]
    is_match = matcher(engine.analyzer.analyze, answers.terms)
    return [
        {
            "id": f"p{hit.id}",
            "title": hit.passage.title[:100],
            "description": hit.passage.text[:120],
            "html": answer_html(hit.passage, answers.language, is_match, sentence=hit.sentence,
                                shown=hit.text, hedge=answers.hedged and hit is answers.hits[0]),
        }
        for hit in answers.hits
    ]
