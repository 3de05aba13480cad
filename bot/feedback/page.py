"""The report as one self-contained HTML page for an editor: the counts, questions per day with
their outcomes as an inline SVG chart, and the questions without an answer or with a 👎 beside
the passage that was shown. No script, no stylesheet or font from the network."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from bot.feedback.report import Report
from bot.feedback.store import DAY
from bot.replies.model import Outcome

COLOURS = {Outcome.SURE: "#2e7d32", Outcome.HEDGED: "#f9a825", Outcome.NONE: "#c62828"}
LABELS = {Outcome.SURE: "answered", Outcome.HEDGED: "hedged", Outcome.NONE: "no answer"}
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 720, 240, 40, 28, 12  # the chart, in SVG units
ROWS = 200  # table rows at most

STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;
color:#222}
h1{font-size:1.5rem;margin-bottom:.2rem}.period{color:#666;margin-top:0}
.counts{display:flex;flex-wrap:wrap;gap:.6rem;margin:1rem 0}
.counts div{border:1px solid #ddd;border-radius:6px;padding:.4rem .8rem;min-width:6rem}
.counts b{display:block;font-size:1.3rem}
svg{width:100%;height:auto;max-width:720px}.legend span{margin-right:1rem}
.legend i{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:-1px}
table{border-collapse:collapse;width:100%;margin-top:.5rem}
th,td{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}
td.n{text-align:right;white-space:nowrap}.passage{color:#444;font-size:.9rem}
.article{color:#777;font-size:.8rem}
"""


def chart_svg(report: Report) -> str:
    """Questions per day as stacked bars (answered, hedged, no answer), with axes and a title
    on every bar."""
    days = list(report.per_day.items())
    most = max([sum(c.values()) for _, c in days] + [1])
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    step = plot_w / max(len(days), 1)
    bar = max(step * 0.7, 1.0)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
             f'role="img" aria-label="Questions per day by outcome">',
             f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - 8}" y2="{TOP + plot_h}" '
             'stroke="#888"/>']
    for tick in sorted({0, most // 2, most}):  # grid lines with their counts
        y = TOP + plot_h * (1 - tick / most)
        if tick:
            parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - 8}" y2="{y:.1f}" '
                         'stroke="#e4e4e4"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" '
                     f'font-size="11">{tick}</text>')
    label_every = max(1, round(len(days) / 10))
    for i, (day, counts) in enumerate(days):
        x, y = LEFT + i * step + (step - bar) / 2, TOP + plot_h
        for kind in Outcome:
            height = plot_h * counts.get(kind.value, 0) / most
            if height > 0:
                y -= height
                parts.append(
                    f'<rect class="{kind.value}" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" '
                    f'height="{height:.1f}" fill="{COLOURS[kind]}"><title>{day}: '
                    f'{counts[kind.value]} {LABELS[kind]}</title></rect>')
        if i % label_every == 0:
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{HEIGHT - 8}" text-anchor="middle" '
                         f'font-size="11">{day[5:]}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _legend() -> str:
    return '<p class="legend">' + "".join(
        f'<span><i style="background:{COLOURS[k]}"></i>{LABELS[k]}</span>' for k in Outcome
    ) + "</p>"


def _counts(report: Report) -> str:
    cells = [("questions", str(report.questions)),
             ("answered", f"{report.answered} · {report.share(report.answered)}"),
             ("hedged", f"{report.hedged} · {report.share(report.hedged)}"),
             ("no answer", f"{report.unanswered} · {report.share(report.unanswered)}"),
             ("👍 up", str(report.up)), ("👎 down", str(report.down))]
    return '<div class="counts">' + "".join(
        f"<div><b>{escape(value)}</b>{escape(name)}</div>" for name, value in cells) + "</div>"


def _table(report: Report) -> str:
    if not report.failed:
        return "<p>None in this period.</p>"
    rows = []
    for f in report.failed[:ROWS]:
        shown = (f'<div class="passage">{escape(f.passage)}</div>'
                 f'<div class="article">{escape(f.article)}</div>') if f.passage else "—"
        rows.append(f"<tr><td>{escape(f.question)}</td><td class=\"n\">{f.asked}</td>"
                    f"<td class=\"n\">{f.unanswered}</td><td class=\"n\">{f.down}</td>"
                    f"<td>{shown}</td></tr>")
    more = (f"<p>… and {len(report.failed) - ROWS} more (all of them: "
            "<code>newsbot report --export FILE</code>).</p>") if len(report.failed) > ROWS else ""
    return ('<table id="failed"><thead><tr><th>question</th><th>asked</th><th>no answer</th>'
            "<th>👎 down</th><th>passage shown</th></tr></thead><tbody>" + "".join(rows)
            + "</tbody></table>" + more)


def report_html(report: Report) -> str:
    """The whole page."""
    since = datetime.fromtimestamp(report.until - report.days * DAY, UTC)
    until = datetime.fromtimestamp(report.until, UTC)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>newsbot report {until:%Y-%m-%d}</title><style>{STYLE}</style></head><body>"
        "<h1>What readers asked newsbot</h1>"
        f'<p class="period">{since:%Y-%m-%d %H:%M} – {until:%Y-%m-%d %H:%M} UTC '
        f"({report.days} day{'s' if report.days > 1 else ''})</p>"
        + _counts(report) + "<h2>Questions per day</h2>" + chart_svg(report) + _legend()
        + "<h2>Without an answer, or voted down</h2><p>Most asked first, with the passage "
        "shown last. <code>newsbot report --export FILE</code> writes them as a question set "
        "to fill in for <code>newsbot eval</code>.</p>" + _table(report)
        + "</body></html>\n"
    )
