"""The question log: every answer shown (question, outcome, passage) and readers' votes, in one
SQLite file (`questions.sqlite3`, WAL) in NEWSBOT_STATE_DIR.

Chat, user and message ids never reach the file: each is replaced by an HMAC under a salt made
once per installation (the file `salt` beside the database), so a reader can be counted but not
named. The bot never waits for the log: records go through a queue to one writer thread, which
owns the connection. A write that fails (full disk, locked or corrupt database, unwritable
folder) is one warning, and the bot goes on answering.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import os
import queue
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.errors import ConfigError
from bot.feedback.asked import Asked

log = logging.getLogger(__name__)
DB_NAME, SALT_NAME = "questions.sqlite3", "salt"
DAY = 86400.0
SETTLE = 20.0  # s: inline queries of one reader this close together are one question, the last
RETRY = 3600.0  # s: a purge that failed is tried again after this long
QUEUE_LIMIT = 10_000  # records waiting beyond this are dropped (with one warning)
BATCH = 500  # records written in one transaction at most
CHAT_KINDS = {"private": "private", "group": "group", "supergroup": "group", "channel": "group",
              "inline": "inline", "console": "console"}
SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    key TEXT PRIMARY KEY,  -- HMAC of the chat and the answer's message
    time REAL NOT NULL,  -- Unix seconds (the day's start when the log is off)
    language TEXT, chat_type TEXT, outcome TEXT NOT NULL, rank INTEGER NOT NULL DEFAULT 0,
    question TEXT, article TEXT, passage TEXT,  -- NULL when the log is off
    chat TEXT, user TEXT  -- HMACs of the chat and the asker; NULL when the log is off
);
CREATE INDEX IF NOT EXISTS answers_time ON answers(time);
CREATE TABLE IF NOT EXISTS votes (
    key TEXT NOT NULL,  -- the answer's key
    voter TEXT NOT NULL,  -- HMAC of the voter ('' when the log is off: one vote an answer)
    vote INTEGER NOT NULL,  -- +1 or -1
    time REAL NOT NULL,
    PRIMARY KEY (key, voter)
);
CREATE INDEX IF NOT EXISTS votes_time ON votes(time);
"""


def read_salt(folder: Path) -> bytes:
    """The installation's salt, made once (two processes starting together agree on one)."""
    path = folder / SALT_NAME
    if not path.exists():
        draft = folder / f".{SALT_NAME}.{os.getpid()}.{threading.get_ident()}"
        draft.write_bytes(secrets.token_bytes(32))
        os.chmod(draft, 0o600)
        try:
            os.link(draft, path)  # atomic: the first one made stays
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links: a rename (the last one made stays)
            os.replace(draft, path)
        finally:
            draft.unlink(missing_ok=True)
    salt = path.read_bytes()
    if len(salt) < 16:
        raise OSError(f"{path} is damaged (fewer than 16 bytes)")
    return salt


class QuestionLog:
    """Records answers and votes in the background; every method returns at once."""

    def __init__(self, folder: Path, keep_days: int = 30, store_text: bool = True,
                 clock: Callable[[], float] = time.time) -> None:
        self.folder, self.path = folder, folder / DB_NAME
        self.keep_days, self.store_text, self._clock = keep_days, store_text, clock
        self._queue: queue.Queue[tuple[Any, ...]] = queue.Queue(QUEUE_LIMIT)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._db: sqlite3.Connection | None = None
        self._salt = b""
        self._failing = self._dropping = False
        self._purged = -math.inf
        self._pending: dict[Any, tuple[Any, ...]] = {}  # inline questions settling, by reader

    @classmethod
    def from_settings(cls, settings: Settings) -> QuestionLog | None:
        """The log the settings ask for; None without a state folder (tests, benchmarks)."""
        if settings.state_dir is None:
            return None
        folder = settings.state_dir.expanduser()
        if folder.resolve().is_relative_to(settings.knowledge_dir.resolve()):
            raise ConfigError(f"NEWSBOT_STATE_DIR ({folder}) must not be inside the knowledge "
                              "folder: choose a folder of its own, e.g. ~/.local/state/newsbot")
        return cls(folder, settings.log_days, settings.question_log)

    def answered(self, asked: Asked, chat_type: str, chat_id: int | str | None,
                 message_id: int | None, user_id: int | str | None) -> None:
        """Log an answer shown in a chat (message_id None: inline, no votes possible)."""
        kind = CHAT_KINDS.get(chat_type, "group")
        self._put(("answer", asked, kind, chat_id, message_id, user_id, self._clock()))

    def vote(self, chat_id: int | str, message_id: int, user_id: int | str, value: int) -> None:
        """A reader's 👍 (+1) or 👎 (-1) on an answer; a second vote replaces the first."""
        self._put(("vote", chat_id, message_id, user_id, 1 if value > 0 else -1, self._clock()))

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until everything logged so far is written (or failed); False on timeout."""
        done = threading.Event()
        self._put(("flush", done))
        return done.wait(timeout)

    def close(self, timeout: float = 30.0) -> None:
        """Write what is waiting and stop the writer thread (the next record starts it again)."""
        with self._lock:
            thread = self._thread
        if thread is not None:
            self._put(("stop",))
            thread.join(timeout)

    def _put(self, item: tuple[Any, ...]) -> None:
        with self._lock:
            try:
                self._queue.put_nowait(item)
            except queue.Full:
                if not self._dropping:
                    log.warning("question log: %d records waiting; dropping new ones",
                                QUEUE_LIMIT)
                self._dropping = True
                return
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="newsbot-questionlog")
                self._thread.start()

    def _run(self) -> None:
        """The writer: records in batches, and once a day (also when idle) the purge."""
        while True:
            items: list[tuple[Any, ...]] = []
            purge_in = min(max(self._purged + DAY - self._clock(), 1.0), DAY)
            try:
                items.append(self._queue.get(timeout=SETTLE if self._pending else purge_in))
                while len(items) < BATCH:
                    items.append(self._queue.get_nowait())
            except queue.Empty:
                pass
            done = [item[1] for item in items if item[0] == "flush"]
            stop = any(item[0] == "stop" for item in items)
            rows = self._settle([i for i in items if i[0] in ("answer", "vote")],
                                bool(done) or stop)
            now = self._clock()
            if rows or now - self._purged >= DAY:
                self._write(rows, now)
            for event in done:
                event.set()
            with self._lock:
                if stop:
                    self._thread = None
                    self._close_db()
                    return

    def _settle(self, rows: list[tuple[Any, ...]], everything: bool) -> list[tuple[Any, ...]]:
        """Hold inline questions back until the reader stops typing (a newer one replaces)."""
        ready = []
        for row in rows:
            if row[0] == "answer" and row[2] == "inline":
                self._pending[row[5]] = row
            else:
                ready.append(row)
        now = self._clock()
        for reader, row in list(self._pending.items()):
            if everything or now - row[6] >= SETTLE:
                ready.append(self._pending.pop(reader))
        return ready

    def _write(self, rows: list[tuple[Any, ...]], now: float) -> None:
        try:
            db = self._connection()
            with db:
                for row in rows:
                    (self._insert_answer if row[0] == "answer" else self._insert_vote)(db, *row[1:])
                purge = now - self._purged >= DAY
                if purge:
                    cutoff = now - self.keep_days * DAY
                    db.execute("DELETE FROM answers WHERE time < ?", (cutoff,))
                    db.execute("DELETE FROM votes WHERE time < ?", (cutoff,))
            if purge:
                self._purged = now
            if self._failing:
                log.warning("question log: writing to %s again", self.path)
            self._failing = False
        except (sqlite3.Error, OSError) as exc:
            self._close_db()
            if now - self._purged >= DAY:
                self._purged = now - DAY + RETRY  # no retry loop: records retry as they come
            if not self._failing:
                log.warning("question log: cannot write %s (%s); answers go on, unlogged",
                            self.path, exc)
            self._failing = True

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._salt = read_salt(self.folder)
            db = sqlite3.connect(self.path, timeout=10.0, check_same_thread=False)
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                db.executescript(SCHEMA)
                os.chmod(self.path, 0o600)
            except BaseException:
                db.close()
                raise
            self._db = db
        return self._db

    def _close_db(self) -> None:
        if self._db is not None:
            try:
                self._db.close()
            except sqlite3.Error:
                pass
            self._db = None

    def _hash(self, *parts: object) -> str:
        text = ":".join(map(str, parts)).encode()
        return hmac.new(self._salt, text, hashlib.sha256).hexdigest()[:16]

    def _insert_answer(self, db: sqlite3.Connection, asked: Asked, kind: str, chat_id: Any,
                       message_id: Any, user_id: Any, at: float) -> None:
        key = secrets.token_hex(8) if message_id is None else self._hash("m", chat_id, message_id)
        text: tuple[str | None, ...]
        if self.store_text:
            chat = None if chat_id is None else self._hash("c", chat_id)
            user = None if user_id is None else self._hash("u", user_id)
            text = (asked.question, asked.article or None, asked.passage or None, chat, user)
        else:
            at, text = at - at % DAY, (None,) * 5
        db.execute("INSERT OR REPLACE INTO answers VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                   (key, at, asked.language, kind, asked.outcome.value, asked.rank, *text))

    def _insert_vote(self, db: sqlite3.Connection, chat_id: Any, message_id: Any, user_id: Any,
                     value: int, at: float) -> None:
        voter = self._hash("u", user_id) if self.store_text else ""
        if not self.store_text:
            at -= at % DAY
        db.execute("INSERT INTO votes VALUES (?,?,?,?) ON CONFLICT (key, voter) DO UPDATE "
                   "SET vote = excluded.vote, time = excluded.time",
                   (self._hash("m", chat_id, message_id), voter, value, at))
