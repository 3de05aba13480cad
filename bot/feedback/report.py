"""What the question log says about a period: counts, questions per day, and the questions that
found no answer or got a 👎 — as text (`/stats`, `newsbot report`), JSON, or a question set."""

from __future__ import annotations

import json
import sqlite3
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.feedback.store import DAY, DB_NAME
from bot.replies.model import Outcome

TOP = 10  # questions `/stats` and the text report list


@dataclass(frozen=True)
class Failed:
    """A question (as first asked) that found no answer, or whose answer got a 👎."""

    question: str
    language: str
    asked: int  # how often, in the period
    unanswered: int  # how often without an answer
    down: int  # 👎 on its answers
    up: int  # 👍 on its answers
    article: str  # the article of the passage shown last ("" for none)
    passage: str  # the passage shown last


@dataclass
class Report:
    """The question log over `days` days up to `until` (Unix seconds)."""

    days: int
    until: float
    questions: int = 0
    answered: int = 0  # sure answers
    hedged: int = 0
    unanswered: int = 0
    up: int = 0
    down: int = 0
    per_day: dict[str, dict[str, int]] = field(default_factory=dict)  # day → outcome → count
    failed: list[Failed] = field(default_factory=list)  # most asked first

    def share(self, count: int) -> str:
        """`count` as a percentage of the questions ("–" when there were none)."""
        return f"{100 * count / self.questions:.0f}%" if self.questions else "–"

    def as_json(self) -> str:
        """One JSON object: the counts, per_day and failed."""
        data = asdict(self)
        data["since"] = _iso(self.until - self.days * DAY)
        data["until"] = _iso(self.until)
        return json.dumps(data, ensure_ascii=False)


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds")


def _day(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).date().isoformat()


def _open(folder: Path) -> sqlite3.Connection | None:
    path = folder / DB_NAME
    if not path.is_file():
        return None
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=10.0)
    if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'answers'").fetchone():
        db.close()
        return None
    return db


def build_report(folder: Path, days: int, until: float | None = None) -> Report:
    """The report over the last `days` days; an empty one when nothing was logged yet.
    Raises sqlite3.Error when the database cannot be read."""
    until = time.time() if until is None else until
    since = until - days * DAY
    report = Report(days, until)
    first = datetime.fromtimestamp(since, UTC).date()
    for n in range((datetime.fromtimestamp(until, UTC).date() - first).days + 1):
        report.per_day[(first + timedelta(n)).isoformat()] = {o.value: 0 for o in Outcome}
    db = _open(folder)
    if db is None:
        return report
    with db:
        rows = db.execute(
            "SELECT a.key, a.time, a.language, a.outcome, a.rank, a.question, a.article,"
            " a.passage, coalesce(sum(v.vote > 0), 0), coalesce(sum(v.vote < 0), 0)"
            " FROM answers a LEFT JOIN votes v ON v.key = a.key WHERE a.time >= ?"
            " GROUP BY a.key ORDER BY a.time", (since,)).fetchall()
        report.up, report.down = db.execute(
            "SELECT coalesce(sum(vote > 0), 0), coalesce(sum(vote < 0), 0) FROM votes"
            " WHERE time >= ?", (since,)).fetchone()
    db.close()
    counts = Counter(row[3] for row in rows if row[4] == 0)
    report.questions = sum(counts.values())
    report.answered, report.hedged, report.unanswered = (
        counts[Outcome.SURE.value], counts[Outcome.HEDGED.value], counts[Outcome.NONE.value])
    for _, at, _, result, rank, *_ in rows:
        if rank == 0 and result in report.per_day.setdefault(_day(at), {}):
            report.per_day[_day(at)][result] += 1
    report.failed = _failed(rows)
    return report


def _failed(rows: list[tuple]) -> list[Failed]:
    """The questions (grouped by their casefolded words) without an answer or with a 👎."""
    groups: dict[str, dict] = {}
    for _, _, language, result, rank, question, article, passage, up, down in rows:
        if question is None:  # the log was off: counts only
            continue
        g = groups.setdefault(" ".join(question.casefold().split()), {
            "question": question, "language": language or "de", "asked": 0, "unanswered": 0,
            "down": 0, "up": 0, "article": "", "passage": ""})
        g["asked"] += rank == 0
        g["unanswered"] += rank == 0 and result == Outcome.NONE.value
        g["up"], g["down"] = g["up"] + up, g["down"] + down
        if passage:
            g["article"], g["passage"] = article or "", passage
    failed = [Failed(**g) for g in groups.values() if g["unanswered"] or g["down"]]
    return sorted(failed, key=lambda f: (-f.asked, -f.down, f.question.casefold()))


def _block(report: Report, top: int) -> list[str]:
    lines = [
        f"questions   {report.questions:6}",
        f"answered    {report.answered:6}  {report.share(report.answered):>4}",
        f"hedged      {report.hedged:6}  {report.share(report.hedged):>4}",
        f"unanswered  {report.unanswered:6}  {report.share(report.unanswered):>4}",
        f"votes       {report.up:6} 👍 {report.down} 👎",
    ]
    if report.failed:
        lines.append(f"Most asked without an answer or with a 👎 (of {len(report.failed)}):")
        for f in report.failed[:top]:
            what = ", ".join(p for p in (
                f"{f.unanswered}× no answer" if f.unanswered else "",
                f"{f.down}× 👎" if f.down else "") if p)
            lines.append(f"  {f.asked:3}×  {_short(f.question)}  ({what})")
    return lines


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def report_text(report: Report, top: int = TOP) -> str:
    """The report as plain text, for `newsbot report`."""
    since = datetime.fromtimestamp(report.until - report.days * DAY, UTC)
    head = (f"newsbot: the last {report.days} day{'s' if report.days > 1 else ''} "
            f"(since {since:%Y-%m-%d %H:%M} UTC)")
    return "\n".join([head, *_block(report, top)])


def stats_text(folder: Path, until: float | None = None) -> str:
    """`/stats`: the last day in figures, then the last week with its top questions."""
    day, week = build_report(folder, 1, until), build_report(folder, 7, until)
    return "\n".join([
        f"Last 24 hours: {day.questions} questions, {day.share(day.answered)} answered, "
        f"{day.share(day.hedged)} hedged, {day.share(day.unanswered)} unanswered; "
        f"{day.up} 👍 {day.down} 👎", "", "Last 7 days:", *_block(week, TOP)])


def export_questions(report: Report, path: Path) -> int:
    """Write the unanswered and 👎 questions as a question set (JSON lines with empty gold,
    for an editor to fill in and `newsbot eval`); returns how many."""
    lines = [json.dumps({"q": f.question, "gold": [], "lang": f.language}, ensure_ascii=False)
             for f in report.failed]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return len(lines)
