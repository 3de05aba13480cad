"""A reply as Telegram HTML: the answer with the question's words in bold and the answering
sentence underlined, its source linked; the no-answer, /start, /help and /sources messages.

Passages stay exactly as written (escaped); the bot's own words come from `texts`.
"""

from __future__ import annotations

import html
from collections.abc import Collection

from bot.knowledge.articles import Article
from bot.replies.model import Answer, Reply, Source, Span, word_spans
from bot.replies.texts import article_lines, source_line, text

TELEGRAM_LIMIT = 4096


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def source_html(source: Source, language: str = "de") -> str:
    """The source line in Telegram HTML; the title links to the article when it has a web
    address (http or https only)."""
    line = _escape(source_line(source, language))
    url = source.url
    if not url or not url.lower().startswith(("http://", "https://")):
        return line
    head = _escape(f"{text('source', language)}: ")
    title = _escape(source.title)
    link = f'<a href="{html.escape(url, quote=True)}">{title}</a>'
    return head + link + line[len(head) + len(title) :]


def highlight_html(passage_text: str, words: Collection[Span] = (),
                   mark: Span | None = None) -> str:
    """Escape a passage for Telegram HTML, put the `words` (spans of whole words) in <b> and
    underline the characters of `mark` (the answering sentence), never splitting a word."""
    spans, bold = word_spans(passage_text), set(words)
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
            out.append(_escape(passage_text[pos:at]) + tag)
            pos = at
        out.append(_escape(passage_text[pos:upto]))
        pos = upto

    for start, end in spans:
        plain(start)
        chunk = _escape(passage_text[start:end])
        out.append(f"<b>{chunk}</b>" if (start, end) in bold else chunk)
        pos = end
    plain(len(passage_text))
    return "".join(out)


def answer_html(reply: Reply, answer: Answer, limit: int = TELEGRAM_LIMIT) -> str:
    """One answer of `reply` as a Telegram message: its text with the question's words in
    bold and the answering sentence underlined, then its source line; under the hedge line
    when it is the best answer of a hedged reply.

    Too long for Telegram (which counts UTF-16 units, an emoji is two)? The text is cut at a
    word boundary before highlighting, so tags and entities stay whole and bold stays bold.
    """
    language = reply.language
    source = f"\n\n<i>{source_html(answer.source, language)}</i>"
    head = f"<i>{_escape(text('hedge', language))}</i>\n\n" if reply.under_hedge(answer) else ""
    shown, mark = answer.text, answer.mark
    body = highlight_html(shown, answer.words, mark)
    room = limit - utf16_len(source) - utf16_len(head)
    while utf16_len(body) > room:
        share = room / utf16_len(body)  # markup and escaping grow with the text: shrink alike
        cut = shown[: max(0, min(len(shown) - 1, int(len(shown) * share * 0.98) - 1))]
        shown = cut[: cut.rfind(" ")] if " " in cut else cut
        kept = (mark[0], min(mark[1], len(shown))) if mark and mark[0] < len(shown) else None
        words = [w for w in answer.words if w[1] <= len(shown)]
        body = highlight_html(shown, words, kept) + "…"
    return head + body + source


def _article_list(articles: Collection[Article], limit: int = 20) -> str:
    return "\n".join(_escape(line) for line in article_lines(articles, limit))


def no_answer_html(articles: Collection[Article], language: str, example: str) -> str:
    """Say plainly that the news doesn't answer, and what the bot does know."""
    return (
        f"{_escape(text('no_answer', language))}\n\n{_escape(text('suggest', language))}\n"
        f"{_article_list(articles, limit=10)}\n\n"
        f"{_escape(text('example', language))} <i>{_escape(example)}</i>"
    )


def welcome_html(articles: Collection[Article], language: str, examples: list[str]) -> str:
    """/start: greet, say what the bot knows, give two example questions."""
    asks = "\n".join(f"<i>{_escape(e)}</i>" for e in examples)
    return (f"{_escape(text('welcome', language))}\n{_article_list(articles)}\n\n"
            f"{_escape(text('example', language))}\n{asks}")


def help_html(language: str, username: str) -> str:
    """/help: how to ask in a private chat, in groups and inline."""
    return text("help_html", language, name=html.escape(username),
                more=_escape(text("more", language)))


def sources_html(articles: Collection[Article], language: str) -> str:
    """/sources: the articles the bot knows, with their dates."""
    return f"{_escape(text('sources', language))}\n{_article_list(articles, limit=25)}"
