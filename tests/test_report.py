"""bot.feedback.report and page, and `newsbot report`: counts on an empty and a filled log, the
question set export, and the HTML page opened in a real headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from bot.cli import main
from bot.evaluate import read_questions
from bot.feedback.asked import Asked, Outcome
from bot.feedback.page import report_html
from bot.feedback.report import build_report, export_questions, report_text, stats_text
from bot.feedback.store import DAY, QuestionLog

NOW = time.time() // DAY * DAY - DAY / 2  # yesterday noon (UTC): whole days before it
UNANSWERED = "Wie wird das Wetter morgen?"
DISLIKED = "Wer ist Kevin Mayer?"
PASSAGE = "Kevin Mayer leitet Tiktok seit Juni."


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def fill(folder: Path, until: float = NOW) -> None:
    """Nine days of questions before `until`: its day 4, the day before 3, and 1 eight days
    before (outside a week)."""
    clock = Clock()
    log = QuestionLog(folder, clock=clock)
    message = iter(range(1, 1000))

    def ask(days_ago: float, asked: Asked, user: int = 7, vote: int = 0, rank_vote: int = 0):
        clock.now = until - days_ago * DAY
        number = next(message)
        log.answered(asked, "private", user, number, user)
        if vote:
            log.vote(user, number, user, vote)
        if rank_vote:  # "more": the next passage, and a vote on it
            following = next(message)
            log.answered(Asked(asked.question, "de", asked.outcome, 1, "B", "next"), "private",
                         user, following, user)
            log.vote(user, following, user, rank_vote)

    sure = Asked("Wer will Tiktok kaufen?", "de", Outcome.SURE, 0, "Tiktok", "Microsoft.")
    ask(0.1, sure, vote=1)
    ask(0.2, Asked(UNANSWERED, "de", Outcome.NONE))
    ask(0.15, Asked(UNANSWERED.upper(), "de", Outcome.NONE), user=8)  # the same, shouted
    ask(0.4, Asked(DISLIKED, "de", Outcome.HEDGED, 0, "Tiktok-Chef", PASSAGE), vote=-1)
    ask(1.1, sure, rank_vote=-1)  # its second passage got a 👎
    ask(1.2, Asked("What about the weather?", "en", Outcome.NONE))
    ask(1.3, sure, vote=1)
    ask(8.0, Asked("Eine alte Frage?", "de", Outcome.NONE))
    log.close()


def test_report_of_an_empty_log(tmp_path):
    for folder in (tmp_path / "missing", tmp_path / "empty"):
        if folder.name == "empty":
            made = QuestionLog(folder)
            made.flush()  # the database exists, without rows
            made.close()
        report = build_report(folder, 7, NOW)
        assert (report.questions, report.answered, report.hedged, report.unanswered,
                report.up, report.down, report.failed) == (0, 0, 0, 0, 0, 0, [])
        assert len(report.per_day) == 8 and "questions        0" in report_text(report)
        assert "<svg" in report_html(report) and "None in this period" in report_html(report)


def test_report_counts_shares_and_failed_questions(tmp_path):
    fill(tmp_path)
    week, day = build_report(tmp_path, 7, NOW), build_report(tmp_path, 1, NOW)
    assert (week.questions, week.answered, week.hedged, week.unanswered) == (7, 3, 1, 3)
    assert (week.up, week.down) == (2, 2)
    assert (day.questions, day.answered, day.hedged, day.unanswered, day.up, day.down) == (
        4, 1, 1, 2, 1, 1)
    assert sum(sum(c.values()) for c in week.per_day.values()) == 7
    failed = [(f.question, f.asked, f.unanswered, f.down) for f in week.failed]
    assert failed == [  # most asked first; "more"'s 👎 counts for its question
        ("Wer will Tiktok kaufen?", 3, 0, 1), (UNANSWERED, 2, 2, 0),
        (DISLIKED, 1, 0, 1), ("What about the weather?", 1, 1, 0)]
    assert week.failed[2].passage == PASSAGE and week.failed[2].article == "Tiktok-Chef"
    text = report_text(week)
    assert "answered         3   43%" in text and "votes            2 👍 2 👎" in text
    assert "    2×  Wie wird das Wetter morgen?  (2× no answer)" in text
    stats = stats_text(tmp_path, NOW)
    assert stats.startswith("Last 24 hours: 4 questions, 25% answered, 25% hedged, 50% "
                            "unanswered; 1 👍 1 👎") and "Last 7 days:" in stats


def test_export_is_a_question_set_for_eval(tmp_path):
    fill(tmp_path)
    target = tmp_path / "todo.jsonl"
    assert export_questions(build_report(tmp_path, 7, NOW), target) == 4
    items = read_questions(target)
    assert [(i["q"], i["gold"], i["lang"]) for i in items][1:] == [
        (UNANSWERED, [], "de"), (DISLIKED, [], "de"), ("What about the weather?", [], "en")]


def test_cli_report_json_html_and_export(tmp_path, monkeypatch, capsys):
    state = tmp_path / "state"
    monkeypatch.setenv("NEWSBOT_STATE_DIR", str(state))
    fill(state)
    html_file, export = tmp_path / "r.html", tmp_path / "q.jsonl"
    assert main(["report", "--days", "30", "--json", "--html", str(html_file),
                 "--export", str(export)]) == 0
    out, err = capsys.readouterr()
    data = json.loads(out)
    assert {k: data[k] for k in ("questions", "answered", "hedged", "unanswered", "up",
                                 "down")} == {"questions": 8, "answered": 3, "hedged": 1,
                                              "unanswered": 4, "up": 2, "down": 2}
    assert len(read_questions(export)) == 5 and f"wrote {html_file}" in err
    assert main(["report"]) == 0 and "questions        7" in capsys.readouterr().out


def test_cli_report_errors_are_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NEWSBOT_STATE_DIR", str(tmp_path))
    (tmp_path / "questions.sqlite3").write_bytes(b"no database " * 100)
    assert main(["report"]) == 2
    assert capsys.readouterr().err.startswith("newsbot: cannot read the question log ")
    with pytest.raises(SystemExit) as exit_info:
        main(["report", "--days", "0"])
    assert exit_info.value.code == 2


PROBE = """<script>
const box = e => { const r = e.getBoundingClientRect(); return [r.width, r.height]; };
const bars = [...document.querySelectorAll("svg rect")].map(
  r => [r.getAttribute("class"), box(r)[1], r.querySelector("title").textContent]);
const rows = [...document.querySelectorAll("#failed tbody tr")].map(
  tr => [...tr.cells].map(c => c.innerText.trim()));
const probe = document.createElement("pre");
probe.id = "probe";
probe.textContent = JSON.stringify({svg: box(document.querySelector("svg")), bars, rows,
  table: box(document.querySelector("#failed")),
  loaded: performance.getEntriesByType("resource").map(e => e.name)});
document.body.append(probe);
</script></body>"""


def render(page: Path, tmp_path: Path) -> dict:
    """Open the page in headless Chromium, run PROBE, and return what it measured."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("Chromium is not installed (apt-get install chromium; .ci/run installs it)")
    probed = page.with_name("probed.html")
    probed.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE),
                      encoding="utf-8")
    result = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1000,1400",
         "--dump-dom", probed.as_uri()], capture_output=True, text=True, timeout=120)
    found = re.search(r'<pre id="probe">(.*?)</pre>', result.stdout, re.S)
    assert found, f"no probe in Chromium's output: {result.stderr[-2000:]}"
    return json.loads(found.group(1).replace("&amp;", "&").replace("&lt;", "<")
                      .replace("&gt;", ">").replace("&quot;", '"'))


def test_html_page_shows_chart_and_table_in_chromium(tmp_path):
    fill(tmp_path / "state")
    page = tmp_path / "report.html"
    page.write_text(report_html(build_report(tmp_path / "state", 7, NOW)), encoding="utf-8")
    seen = render(page, tmp_path)
    width, height = seen["svg"]
    assert 500 <= width <= 800 and height > 100  # the chart is drawn, at its size
    bars = {title: (kind, h) for kind, h, title in seen["bars"]}
    assert len(bars) == 5 and all(h > 0 for _, h in bars.values())
    kinds = sorted(kind for kind, _ in bars.values())
    assert kinds == ["hedged", "none", "none", "sure", "sure"]
    today, yesterday = (time.strftime("%Y-%m-%d", time.gmtime(NOW - d * DAY)) for d in (0, 1))
    two_sure, one_none = bars[f"{yesterday}: 2 answered"][1], bars[f"{yesterday}: 1 no answer"][1]
    assert two_sure == pytest.approx(2 * one_none, rel=0.02)  # heights follow the counts
    assert bars[f"{today}: 2 no answer"][1] == pytest.approx(two_sure, rel=0.02)
    assert seen["table"][1] > 0 and [r[0] for r in seen["rows"]] == [
        "Wer will Tiktok kaufen?", UNANSWERED, DISLIKED, "What about the weather?"]
    assert seen["rows"][2][1:4] == ["1", "0", "1"] and PASSAGE in seen["rows"][2][4]
    assert seen["loaded"] == []  # self-contained: nothing fetched


def test_html_page_escapes_what_readers_typed(tmp_path):
    log = QuestionLog(tmp_path)
    hostile = '</td></table><script>alert("x")</script> & <b>Co'
    log.answered(Asked(hostile, "de", Outcome.NONE), "private", 1, 1, 1)
    log.close()
    page = report_html(build_report(tmp_path, 7))
    assert "<script" not in page and "<b>Co" not in page
    assert "&lt;/td&gt;&lt;/table&gt;&lt;script&gt;alert(&quot;x&quot;)" in page
