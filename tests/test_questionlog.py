"""bot.feedback.store: the question log on disk — hashed ids only, votes replaced not added,
retention, two writers at once, and faults that cost a warning but never an answer."""

from __future__ import annotations

import logging
import os
import sqlite3
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

from bot.config import Settings
from bot.errors import ConfigError
from bot.feedback.asked import Asked, Outcome
from bot.feedback.store import DAY, DB_NAME, SALT_NAME, QuestionLog
from bot.knowledge.passages import Passage
from bot.replies import build, outcome
from bot.search.engine import Answers
from bot.search.hits import Hit

CHAT, USER, MESSAGE = 987654321, 123456789, 4242
ASKED = Asked("Wer will Tiktok kaufen?", "de", Outcome.SURE, 0, "Tiktok-Artikel",
              "Microsoft will Tiktok kaufen.")
T0 = 1_800_000_000.0  # a fixed "now" (2027-01-15)


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def rows(folder: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(folder / DB_NAME) as db:
        return db.execute(sql).fetchall()


def files_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.iterdir() if p.name.startswith(DB_NAME))


def _passage(position: int, text: str) -> Passage:
    return Passage("tiktok.md", "Tiktok-Artikel", None, None, position, text)


HIT = Hit(_passage(0, "Microsoft will Tiktok kaufen."), 1.0, 1.0, 0)


def test_outcome_of_answers():
    question = "Wer will Tiktok kaufen?"
    assert outcome(Answers(question, "de", [])) is Outcome.NONE
    assert outcome(Answers(question, "de", [], sure=False)) is Outcome.NONE  # nothing to hedge
    assert outcome(Answers(question, "de", [HIT])) is Outcome.SURE
    assert outcome(Answers(question, "de", [HIT], sure=False)) is Outcome.HEDGED


def test_asked_keeps_the_answer_as_shown():
    """Two passages of one article shown together are kept as the reader saw them."""
    pair = Hit(_passage(2, "Der Preis ist offen."), 1.0, 1.0, 2,
               companion=_passage(0, "Microsoft will Tiktok kaufen."))
    answers = Answers("Wer will Tiktok kaufen?", "de", [HIT, pair], sure=False)
    reply = build(answers)
    first, second = Asked.of(reply, 0), Asked.of(reply, 1)
    assert (first.outcome, first.rank, first.article, first.passage) == (
        Outcome.HEDGED, 0, "Tiktok-Artikel", "Microsoft will Tiktok kaufen.")
    assert second.passage == pair.text
    assert second.passage.startswith("Microsoft will") and "Der Preis ist offen." in second.passage
    assert Asked.of(reply, 2).passage == ""  # beyond the hits: nothing shown


def test_answer_and_votes_are_stored_under_hashed_ids_only(tmp_path):
    folder = tmp_path / "state"
    log = QuestionLog(folder)
    log.answered(ASKED, "private", CHAT, MESSAGE, USER)
    log.vote(CHAT, MESSAGE, USER, +1)
    log.vote(CHAT, MESSAGE, USER, -1)  # pressed again: the vote changes, no second row
    log.vote(CHAT, MESSAGE, 555, +1)  # another reader (in a group)
    assert log.flush()
    log.close()
    (answer,) = rows(folder, "SELECT question, outcome, chat_type, article, passage, chat, user,"
                             " key FROM answers")
    assert answer[:5] == (ASKED.question, "sure", "private", ASKED.article, ASKED.passage)
    chat, user, key = answer[5:]
    assert len({chat, user, key}) == 3 and all(len(h) == 16 for h in (chat, user, key))
    assert sorted(rows(folder, "SELECT key, vote FROM votes")) == sorted([(key, -1), (key, 1)])
    assert len((folder / SALT_NAME).read_bytes()) == 32
    raw = files_bytes(folder)  # the database and its WAL
    for number in (CHAT, USER, MESSAGE, 555):
        for form in (str(number).encode(), struct.pack(">q", number), struct.pack(">i", number)):
            assert form not in raw, f"{number} is in the database file as {form!r}"


def test_same_ids_hash_the_same_after_a_restart_and_differ_per_installation(tmp_path):
    keys = []
    for folder in (tmp_path / "a", tmp_path / "a", tmp_path / "b"):
        log = QuestionLog(folder)
        log.answered(ASKED, "private", CHAT, MESSAGE + len(keys), USER)
        log.close()
        keys.append(rows(folder, "SELECT user FROM answers ORDER BY time")[-1][0])
    assert keys[0] == keys[1] != keys[2]


def test_log_off_keeps_counts_but_no_text_and_no_ids(tmp_path):
    log = QuestionLog(tmp_path, store_text=False, clock=Clock(T0 + 3600 * 5))
    log.answered(ASKED, "supergroup", CHAT, MESSAGE, USER)
    log.vote(CHAT, MESSAGE, USER, +1)
    log.vote(CHAT, MESSAGE, 555, -1)  # off: one vote an answer, the last press counts
    log.close()
    assert rows(tmp_path, "SELECT time, language, chat_type, outcome, question, article,"
                          " passage, chat, user FROM answers") == [
        (T0 - T0 % DAY, "de", "group", "sure", None, None, None, None, None)]
    assert rows(tmp_path, "SELECT voter, vote FROM votes") == [("", -1)]
    assert ASKED.question.encode() not in files_bytes(tmp_path)


def test_inline_questions_typed_in_a_row_are_one_question(tmp_path):
    log = QuestionLog(tmp_path)
    for typed in ("Wer", "Wer will Tik", "Wer will Tiktok kaufen?"):
        log.answered(Asked(typed, "de", Outcome.SURE), "inline", None, None, USER)
    log.answered(Asked("Wer ist Kevin Mayer?", "de", Outcome.SURE), "inline", None, None, 2)
    log.close()
    assert sorted(rows(tmp_path, "SELECT question, chat_type FROM answers")) == [
        ("Wer ist Kevin Mayer?", "inline"), ("Wer will Tiktok kaufen?", "inline")]


def test_rows_older_than_the_retention_are_deleted_daily(tmp_path):
    clock = Clock()
    log = QuestionLog(tmp_path, keep_days=30, clock=clock)
    log.answered(ASKED, "private", CHAT, 1, USER)
    log.vote(CHAT, 1, USER, 1)
    assert log.flush()
    clock.now += 29 * DAY  # within the retention: kept
    log.answered(ASKED, "private", CHAT, 2, USER)
    assert log.flush()
    assert len(rows(tmp_path, "SELECT * FROM answers")) == 2
    clock.now += 2 * DAY  # the first is 31 days old, and a day passed since the last purge
    log.answered(ASKED, "private", CHAT, 3, USER)
    assert log.flush()
    log.close()
    assert [r[0] for r in rows(tmp_path, "SELECT time FROM answers ORDER BY time")] == [
        T0 + 29 * DAY, T0 + 31 * DAY]
    assert rows(tmp_path, "SELECT * FROM votes") == []


WRITER = """
import sys
from pathlib import Path
from bot.feedback.asked import Asked, Outcome
from bot.feedback.store import QuestionLog
log = QuestionLog(Path(sys.argv[1]))
worker = int(sys.argv[2])
for n in range(300):
    log.answered(Asked(f"Frage {worker}/{n}", "de", Outcome.NONE), "private", worker, n, worker)
    if n % 3 == 0:
        log.vote(worker, n, worker, 1)
    if n % 50 == 0:  # many small transactions, interleaving with the other process
        log.flush()
log.close()
"""


def test_two_workers_write_to_one_log_at_once(tmp_path):
    folder = tmp_path / "state"
    processes = [subprocess.Popen([sys.executable, "-c", WRITER, str(folder), str(worker)],
                                  cwd=REPO, stderr=subprocess.PIPE, text=True)
                 for worker in (1, 2)]
    errors = [p.communicate(timeout=120)[1] for p in processes]
    assert [p.returncode for p in processes] == [0, 0] and errors == ["", ""]
    assert rows(folder, "SELECT count(*), count(DISTINCT user) FROM answers") == [(600, 2)]
    assert rows(folder, "SELECT count(*) FROM votes") == [(200,)]
    assert len([p for p in folder.iterdir() if p.name.startswith(f".{SALT_NAME}")]) == 0


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "bot.feedback.store" and r.levelno >= logging.WARNING]


def test_unwritable_state_folder_is_one_warning(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    log = QuestionLog(blocker / "state")
    for n in range(5):
        log.answered(ASKED, "private", CHAT, n, USER)
        assert log.flush()
    log.close()
    (warning,) = _warnings(caplog)
    assert "cannot write" in warning and "answers go on" in warning


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_state_folder_is_one_warning(tmp_path, caplog):
    folder = tmp_path / "state"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        log = QuestionLog(folder)
        for n in range(3):
            log.answered(ASKED, "private", CHAT, n, USER)
            assert log.flush()
        log.close()
    finally:
        folder.chmod(0o700)
    assert len(_warnings(caplog)) == 1 and not (folder / DB_NAME).exists()


def test_corrupt_database_is_one_warning(tmp_path, caplog):
    (tmp_path / DB_NAME).write_bytes(b"this is no database, " * 100)
    log = QuestionLog(tmp_path)
    for n in range(3):
        log.answered(ASKED, "private", CHAT, n, USER)
        log.vote(CHAT, n, USER, 1)
        assert log.flush()
    log.close()
    assert len(_warnings(caplog)) == 1


class FullDisk(QuestionLog):
    """SQLite's own "database or disk is full", from a page limit at the current size."""

    full = True

    def _connection(self) -> sqlite3.Connection:
        db = super()._connection()
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {pages if self.full else 1_000_000}")
        return db


def test_full_disk_is_one_warning_and_writing_resumes(tmp_path, caplog):
    log = FullDisk(tmp_path)
    log.answered(ASKED, "private", CHAT, 0, USER)  # the empty database is made, then full
    for n in range(1, 200):
        log.answered(Asked("x" * 2000, "de", Outcome.NONE), "private", CHAT, n, USER)
    assert log.flush()
    (warning,) = _warnings(caplog)
    assert "full" in warning
    log.full = False  # space again: the next write (on a new connection) goes through
    log.answered(Asked("Und jetzt?", "de", Outcome.NONE), "private", CHAT, 500, USER)
    assert log.flush()
    log.close()
    assert "writing to" in _warnings(caplog)[-1]
    assert rows(tmp_path, "SELECT outcome FROM answers WHERE question = 'Und jetzt?'") == [
        ("none",)]


def test_state_folder_inside_the_knowledge_folder_is_refused(tmp_path):
    settings = Settings(knowledge_dir=tmp_path / "knowledge", state_dir=tmp_path / "knowledge/s")
    with pytest.raises(ConfigError, match="NEWSBOT_STATE_DIR"):
        QuestionLog.from_settings(settings)
    assert QuestionLog.from_settings(Settings()) is None  # no folder: no log
