"""Issue #12, "an operator's first hour": one-line errors, the console chat, first start."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

import pytest
from test_cli import KNOWLEDGE, newsbot

from bot import console
from bot.config import Settings
from bot.evaluate import evaluate, read_questions, report
from bot.indexing.loading import load_engine
from bot.indexing.storage import build_and_save
from bot.language import cache

REPO = Path(__file__).resolve().parents[1]


# --- errors are one line, never a traceback -----------------------------------------------


@pytest.mark.parametrize("args", [["ask", "Wer will Tiktok kaufen?", "Wer ist Kevin Mayer?"],
                                  ["ask", "--json", "Wer will Tiktok kaufen?", "asdf"]])
def test_output_into_a_closed_pipe_ends_quietly(env, args):
    # `newsbot ask ... | head -1`: the reader has gone before newsbot writes
    reader, writer = os.pipe()
    os.close(reader)
    process = subprocess.run(
        [sys.executable, "-m", "bot", *args], stdout=writer, stderr=subprocess.PIPE,
        env=env, cwd=env["HOME"], timeout=60,
    )
    os.close(writer)
    stderr = process.stderr.decode()
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr
    assert process.returncode == 141


def test_head_reads_the_first_line_only(env):
    shell = f"{sys.executable} -m bot ask --json 'Wer will Tiktok kaufen?' asdf asdf asdf | head -1"
    result = subprocess.run(["sh", "-c", shell], capture_output=True, text=True, env=env,
                            cwd=env["HOME"], timeout=60)
    assert json.loads(result.stdout)["question"] == "Wer will Tiktok kaufen?"
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("index_dir", ["/proc/newsbot-index", "FILE/index"])
def test_index_folder_that_cannot_be_created_is_one_line_exit_2(env, tmp_path, index_dir):
    (tmp_path / "FILE").write_text("a file, not a folder")
    index_dir = index_dir.replace("FILE", str(tmp_path / "FILE"))
    result = newsbot({**env, "NEWSBOT_INDEX_DIR": index_dir}, "index")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and index_dir in lines[0] and "NEWSBOT_INDEX_DIR" in lines[0]


@pytest.mark.parametrize("top", ["0", "-1", "x"])
def test_ask_top_below_one_is_a_usage_error(env, top):
    result = newsbot(env, "ask", "--top", top, "Wer will Tiktok kaufen?")
    assert result.returncode == 2
    assert "--top" in result.stderr and "Traceback" not in result.stderr


class _Silent:
    """An engine stand-in that never answers."""

    def ask(self, question: str, k: int = 3, abstain: bool = True):
        from bot.search.engine import Answers

        return Answers(question, "de", [])


def test_eval_without_off_topic_questions_says_n_a():
    tallies = evaluate(_Silent(), [{"q": "Wer will Tiktok kaufen?", "gold": ["x"], "lang": "de"}])
    de = next(line for line in report(tallies).splitlines() if line.startswith("de"))
    assert de.split()[-2] == "n/a"  # abstention; ranked@1 follows


def test_eval_question_without_lang_is_detected(tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"q": "Who wants to buy TikTok?", "gold": []}\n'
                         '{"q": "Wer will Tiktok kaufen?", "gold": []}\n', encoding="utf-8")
    items = read_questions(questions)
    assert [item["lang"] for item in items] == ["en", "de"]
    assert set(evaluate(_Silent(), items)) == {"de", "en", "all"}


# --- the console matches Telegram ---------------------------------------------------------


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cache")
    settings = Settings(knowledge_dir=KNOWLEDGE, dictionary=folder / "none.index",
                        thesaurus=folder / "none.txt", cache_dir=folder)
    return load_engine(settings)


def _conversation(engine, *lines: str) -> str:
    said: list[str] = []
    queue = list(lines)

    def read(prompt: str) -> str:
        return queue.pop(0) if queue else "quit"

    console.converse(engine, read, said.append)
    return "\n".join(said)


def test_console_help_sources_and_unknown_commands(engine):
    out = _conversation(engine, "/help", "/sources", "/quellen", "/frobnicate")
    assert "„mehr“" in out and "/sources" in out
    assert out.count("Artikel, die ich kenne:") == 2
    assert "Tiktok ist der erste globale App-Erfolg" in out
    assert "<" not in out  # Telegram's HTML tags are gone
    assert "Diesen Befehl kenne ich nicht — /help" in out


def test_console_more_and_english_no_answer(engine):
    out = _conversation(engine, "Wer will Tiktok kaufen?", "mehr", "xyzzy plugh quux?")
    shown = out.replace("»", "").replace("«", "")  # the answering sentence, marked in a pipe
    first, *rest = shown.split("\n  — Quelle: ")
    assert "Tiktok" in first or "Microsoft" in first  # the answer as shown, with its source
    if len(rest) == 2:  # "mehr": a second answer, another passage
        second = rest[0].split("\n", 2)[-1]
        assert second.strip() and second.strip() not in first
    else:
        assert "Mehr steht dazu nicht in den Nachrichten." in out
    assert "Dazu steht nichts in den Nachrichten" in out  # "xyzzy plugh quux?"
    english = _conversation(engine, "What is the weather like in Oslo tomorrow?")
    assert "The news I know doesn't say" in english
    assert "Try asking, for example: What about" in english


def read_until(stream: IO[str], marker: str, timeout: float = 30) -> str:
    """Read the child's stream until `marker` has appeared; what was read. The bound only
    ends a hang: the wait is for the output, not for a guessed time."""
    seen: list[str] = []
    found = threading.Event()

    def read() -> None:
        while ch := stream.read(1):
            seen.append(ch)
            if "".join(seen[-len(marker):]) == marker:
                found.set()
                return

    threading.Thread(target=read, daemon=True).start()
    assert found.wait(timeout), f"{marker!r} not seen in {timeout} s: {''.join(seen)!r}"
    return "".join(seen)


def test_chat_ctrl_c_and_eof_say_goodbye_exit_0(env):
    result = newsbot(env, "chat", stdin="Wer will Tiktok kaufen?\nmehr\n/help\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip().endswith("Tschüss — bye!")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "chat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env=env, cwd=env["HOME"], text=True,
    )
    assert process.stdout.readline().startswith("newsbot — ask about the news")
    read_until(process.stdout, "\n> ")  # at the prompt's input()
    process.send_signal(2)  # SIGINT, as Ctrl-C
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "Tschüss — bye!" in out and "Traceback" not in err


# --- first start and caches ---------------------------------------------------------------


def test_unwritable_cache_is_one_warning_naming_the_setting(tmp_path, caplog):
    (tmp_path / "file").write_text("x")
    folder = tmp_path / "file" / "cache"
    with caplog.at_level(logging.WARNING, logger="bot.language.cache"):
        for name in ("a", "b"):
            cache.write(folder / f"{name}-0.marshal", [1])
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1
    assert str(folder) in warnings[0] and "NEWSBOT_CACHE_DIR" in warnings[0]


def test_stale_saved_index_is_one_line_and_articles_are_debug(tmp_path, caplog):
    folder = tmp_path / "knowledge"
    folder.mkdir()
    for article in KNOWLEDGE.glob("*.txt"):
        (folder / article.name).write_text(article.read_text(encoding="utf-8"), encoding="utf-8")
    settings = Settings(knowledge_dir=folder, dictionary=tmp_path / "none",
                        thesaurus=tmp_path / "none", cache_dir=tmp_path / "cache")
    build_and_save(settings)
    first = next(folder.glob("*.txt"))
    first.write_text(first.read_text(encoding="utf-8") + "\n\nNeu.", encoding="utf-8")
    with caplog.at_level(logging.INFO):
        load_engine(settings)
    messages = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    stale = [m for m in messages if "out of date" in m]
    assert len(stale) == 1 and "1 of the article files" in stale[0]
    assert "newsbot index" in stale[0] and "in memory" in stale[0]
    assert not any(m.startswith("article ") for m in messages)


def test_first_dictionary_parse_is_announced_at_once(tmp_path, monkeypatch):
    from bot.language import dictionary

    said: list[str] = []
    monkeypatch.setattr(dictionary, "PROGRESS_SECONDS", 0.0)
    monkeypatch.setattr(dictionary, "parse_dictionary", _fake_parse(said))
    index = tmp_path / "d.index"
    index.write_text("x")
    dictionary.load_dictionary(index, tmp_path / "cache", said.append)
    assert said[0] == "preparing the English dictionary (first start only) …"
    assert said[1] == "… 1 of 2 dictionary entries"
    said.clear()
    dictionary.load_dictionary(index, tmp_path / "cache", said.append)  # from the cache
    assert said == []


def _fake_parse(said: list[str]):
    def parse(path: Path, progress=None) -> dict:
        assert said, "announced before parsing"
        progress(1, 2)
        return {"take": ("nehmen",)}
    return parse


# --- webhook settings ---------------------------------------------------------------------


@pytest.mark.parametrize("key, value", [
    ("NEWSBOT_WEBHOOK_URL", "http://bot.example.org"),
    ("NEWSBOT_WEBHOOK_URL", "bot.example.org"),
    ("NEWSBOT_WEBHOOK_SECRET", "has space"),
    ("NEWSBOT_WEBHOOK_SECRET", "umlaut-ä"),
    ("NEWSBOT_WEBHOOK_SECRET", "x" * 257),
])
def test_bad_webhook_settings_are_refused_in_one_line(env, key, value):
    result = newsbot({**env, "TELEGRAM_BOT_TOKEN": "123456789:" + "A" * 35, key: value},
                     "run", "--webhook")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and key in lines[0] and "Traceback" not in result.stderr
    if key.endswith("SECRET"):
        assert value not in result.stderr  # the secret is never echoed


def test_good_webhook_settings_pass():
    from bot.config import load_settings

    settings = load_settings({"NEWSBOT_WEBHOOK_URL": "https://bot.example.org/x",
                              "NEWSBOT_WEBHOOK_SECRET": "Ab_9-" * 50}, dotenv=None)
    assert settings.webhook_url == "https://bot.example.org/x"
    assert len(settings.webhook_secret) == 250


# --- packaging ----------------------------------------------------------------------------


def test_license_is_an_spdx_expression_with_its_file():
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["license"] == "MIT"
    assert project["project"]["license-files"] == ["LICENSE"]
    assert project["build-system"]["requires"] == ["setuptools>=77"]  # SPDX license needs 77
    text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "Copyright (c) 2026 newsbot authors" in text


def test_readme_commands_use_the_venv():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "\npython -m bot" not in readme and " python -m bot" not in readme
    assert ".venv/bin/python -m bot" in readme


# --- done when: a fresh start greets at once --------------------------------------------


DICTIONARY = Path("/usr/share/dictd/freedict-eng-deu.index")


@pytest.mark.skipif(not DICTIONARY.is_file(), reason="needs dict-freedict-eng-deu")
def test_fresh_start_greets_before_loading_and_ctrl_c_while_loading_is_clean(env):
    """The greeting comes before the slow first start (the dictionary's parse), not after it:
    a Ctrl-C during the parse ends with the greeting and the goodbye, no welcome. No time
    limit (speed is the benchmark's): the waits are for the output, their bounds end a hang."""
    fresh = {k: v for k, v in env.items() if k != "NEWSBOT_DICTIONARY"}  # the real one, no cache
    process = subprocess.Popen(
        [sys.executable, "-m", "bot"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env=fresh, cwd=env["HOME"], text=True,
    )
    first = read_until(process.stdout, "newsbot — ask about the news", timeout=120)
    parsing = read_until(process.stderr, "preparing the English dictionary (first start only) …",
                         timeout=120)
    process.send_signal(2)  # Ctrl-C, while it parses the dictionary
    out, err = process.communicate(timeout=60)
    err = parsing + err
    assert first == "newsbot — ask about the news"  # the first thing it says
    assert process.returncode == 0 and out.rstrip().endswith("Tschüss — bye!")
    assert "Hallo!" not in out  # stopped while loading: the welcome after it never came
    assert "Traceback" not in err
