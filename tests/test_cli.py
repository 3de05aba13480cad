"""The `newsbot` command line, run as a subprocess: `python -m bot ...`."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest
from conftest import KNOWLEDGE, QUESTIONS
from threadpoolctl import threadpool_info

from bot import __version__
from bot.cli import openmp_threads
from bot.text import clean_question

TITLE = "Tiktok ist der erste globale App-Erfolg aus China in der Liga von Facebook"
ANSWER_KEYS = {"text", "score", "article", "title", "date", "dateline", "passage", "url",
               "sentence", "passages"}
TIMEOUT = 60


def newsbot(env, *args: str, stdin: str | None = None):
    """Run `python -m bot args` in tmp (HOME), a folder without `.env`."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin, capture_output=True, text=True, encoding="utf-8", env=env,
        cwd=env["HOME"], timeout=TIMEOUT,
    )


def json_lines(stdout: str) -> list[dict]:
    lines = stdout.split("\n")
    assert lines[-1] == ""  # every line ends with a newline
    return [json.loads(line) for line in lines[:-1]]


def test_version(env):
    result = newsbot(env, "--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"newsbot {__version__}"


def test_ask_prints_passage_and_source(env):
    result = newsbot(env, "ask", "--knowledge", str(KNOWLEDGE), "Wer will Tiktok kaufen?",
                     "Wie wird das Wetter morgen?")
    assert result.returncode == 0, result.stderr
    answered, off_topic = result.stdout.split("? Wie wird das Wetter morgen?\n")
    assert answered.startswith("? Wer will Tiktok kaufen?\n1. ")
    assert "Microsoft" in answered
    assert f"Quelle: {TITLE} — REDMOND/WASHINGTON, 2020-08" in answered
    assert off_topic.startswith("Dazu steht nichts in den Nachrichten")
    assert "Quelle:" not in off_topic
    assert "Traceback" not in result.stderr


def test_ask_json_one_line_per_question(env):
    questions = ["Wer will Tiktok kaufen?", "asdf", "Wie heiß war es in Ihringen?"]
    result = newsbot(env, "ask", "--json", *questions)
    assert result.returncode == 0, result.stderr
    lines = json_lines(result.stdout)
    # each question as asked, cleaned and cut to NEWSBOT_MAX_QUESTION_CHARS (bot/text.py)
    assert [line["question"] for line in lines] == [clean_question(q, 500)[0] for q in questions]
    first = lines[0]
    assert set(first) >= {"question", "answers"}
    assert 1 <= len(first["answers"]) <= 3
    assert all(set(a) == ANSWER_KEYS for line in lines for a in line["answers"])
    top = first["answers"][0]
    assert "Microsoft" in top["text"]
    assert (top["article"], top["title"], top["date"], top["dateline"]) == (
        "2020-08-tiktok-microsoft.txt", TITLE, "2020-08", "REDMOND/WASHINGTON"
    )
    assert isinstance(top["score"], float) and isinstance(top["passage"], int)
    assert lines[1]["answers"] == []


def test_ask_top_limits_answers(env):
    result = newsbot(env, "ask", "--json", "--top", "1", "Tiktok", "Microsoft Tiktok")
    assert [len(line["answers"]) for line in json_lines(result.stdout)] == [1, 1]


def test_ask_stdin_one_json_line_per_input_line(env):
    long_line = "Wer will Tiktok kaufen? " + "Nachrichten " * 900
    assert len(long_line) > 10_000
    questions = ["Wer will Tiktok kaufen?", "", "Wie wird das Wetter morgen?", "   ", "😀😀",
                 "<b>&amp;", "\x00\x01", long_line, "asdf"]
    # The last line has no newline.
    result = newsbot(env, "ask", "--json", stdin="\n".join(questions))
    assert result.returncode == 0, result.stderr
    lines = json_lines(result.stdout)
    # each question as asked, cleaned and cut to NEWSBOT_MAX_QUESTION_CHARS (bot/text.py)
    assert [line["question"] for line in lines] == [clean_question(q, 500)[0] for q in questions]
    assert lines[0]["answers"] and "Microsoft" in lines[0]["answers"][0]["text"]
    assert [line["answers"] for line in lines[1:7]] == [[]] * 6
    assert lines[-1]["answers"] == []
    assert "Traceback" not in result.stderr


def test_ask_stdin_answers_each_line_as_it_comes(env):
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "ask", "--json"], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, encoding="utf-8",
        env=env, cwd=env["HOME"],
    )
    timer = threading.Timer(TIMEOUT, process.kill)
    timer.start()
    try:
        process.stdin.write("Wer will Tiktok kaufen?\n")
        process.stdin.flush()
        first = process.stdout.readline()  # stdin is still open
        process.stdin.write("asdf\n")
        process.stdin.flush()
        second = process.stdout.readline()
        process.stdin.close()
        assert process.wait(timeout=TIMEOUT) == 0
    finally:
        timer.cancel()
        process.kill()
    assert json.loads(first)["question"] == "Wer will Tiktok kaufen?"
    assert json.loads(second) == {"question": "asdf", "language": "de", "sure": False,
                                 "answers": []}


def test_knowledge_from_environment(env, knowledge_copy):
    only_seed = {**env, "NEWSBOT_KNOWLEDGE_DIR": str(knowledge_copy)}
    for path in knowledge_copy.iterdir():
        if "tiktok" not in path.name:
            path.unlink()
    result = newsbot(only_seed, "ask", "--json", "Wie heiß war es in Ihringen?", "Tiktok")
    heat, tiktok = json_lines(result.stdout)
    assert heat["answers"] == []
    assert tiktok["answers"]


def test_missing_knowledge_folder_is_one_line_exit_2(env, tmp_path):
    missing = tmp_path / "keine-artikel"
    # --knowledge wins over NEWSBOT_KNOWLEDGE_DIR (which names a good folder).
    result = newsbot(env, "ask", "--knowledge", str(missing), "Tiktok")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert str(missing) in lines[0]
    assert "Traceback" not in result.stderr


def test_empty_knowledge_folder_exit_2(env, tmp_path):
    empty = tmp_path / "leer"
    empty.mkdir()
    result = newsbot(env, "ask", "--knowledge", str(empty), "Tiktok")
    assert result.returncode == 2
    assert str(empty) in result.stderr
    assert "Traceback" not in result.stderr


def test_eval_prints_scores_per_language(env):
    result = newsbot(env, "eval", str(QUESTIONS))
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["lang", "n", "R@1", "sure", "sure✓", "hedged", "MRR@3", "off",
                              "silent", "miss", "miss¬sure", "ranked@1"]
    table = {row.split()[0]: row.split()[1:] for row in rows if row[:3] in ("de ", "en ", "all")}
    assert {"de", "all"} <= set(table)
    for values in table.values():
        assert 0.0 <= float(values[1]) <= 1.0  # R@1
        assert 0.0 <= float(values[5]) <= 1.0  # MRR@3
        assert 0.0 <= float(values[7]) <= 1.0  # silent on off-topic questions
    assert float(table["de"][1]) >= 0.3  # many German questions are answered right


def test_eval_broken_question_file_names_the_line(env, tmp_path):
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"q": "Tiktok", "gold": []}\n{"q": 5}\n', encoding="utf-8")
    result = newsbot(env, "eval", str(broken))
    assert result.returncode == 2
    assert f"{broken}:2" in result.stderr
    assert "Traceback" not in result.stderr


def test_index_then_ask_uses_saved_index(env, knowledge_copy):
    local = {**env, "NEWSBOT_KNOWLEDGE_DIR": str(knowledge_copy)}
    result = newsbot(local, "index")
    assert result.returncode == 0, result.stderr
    assert (knowledge_copy / ".newsbot" / "manifest.json").is_file()
    answer = newsbot({**local, "NEWSBOT_LOG_LEVEL": "INFO"}, "ask", "--json",
                     "Wer will Tiktok kaufen?")
    assert "Microsoft" in json_lines(answer.stdout)[0]["answers"][0]["text"]
    assert "loaded saved index" in answer.stderr


def test_unknown_command_is_a_usage_error(env):
    result = newsbot(env, "fly")
    assert result.returncode == 2
    assert "usage" in result.stderr


def test_malformed_token_is_one_line_exit_2(env):
    result = newsbot({**env, "TELEGRAM_BOT_TOKEN": "not-a-token"}, "run")
    assert result.returncode == 2
    assert "malformed" in result.stderr
    assert "not-a-token" not in result.stderr
    assert "Traceback" not in result.stderr


# --- the eval command's scoring (in process: it needs a controlled engine) ----------------


class _TwoHits:
    """An engine stand-in whose second hit holds the gold phrase."""

    def ask(self, question: str, k: int = 3, abstain=True):
        from bot.knowledge.passages import Passage
        from bot.search.engine import Answers
        from bot.search.lexical.index import Hit

        passages = [Passage("a.txt", "T", None, None, i, text)
                    for i, text in enumerate(["erste Stelle", "zweite Stelle mit Gold"])]
        return Answers(question, "de", [Hit(p, 2.0 - i, 1.0, i) for i, p in enumerate(passages)])


def test_eval_scores_rank_two():
    from bot.evaluate import evaluate

    tally = evaluate(_TwoHits(), [{"q": "Frage", "gold": ["Gold"], "lang": "de"}])["de"]
    assert tally.summary()["recall@1"] == 0.0
    assert tally.summary()["mrr@3"] == pytest.approx(0.5)


def test_eval_reports_answers_found_below_rank_one():
    from bot.evaluate import evaluate, report

    tallies = evaluate(_TwoHits(), [{"q": "Frage", "gold": ["Gold"], "lang": "de"}])
    assert "Frage" in report(tallies)


def test_numpy_blas_runs_on_one_thread():
    """Between a question's small matrix products, a BLAS thread per core spins and burns the
    other core (two questions at once were 1.3× one): every command runs BLAS on one."""
    openmp_threads(1)
    blas = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
    assert blas and all(pool["num_threads"] == 1 for pool in blas)
