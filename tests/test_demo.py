"""`make demo` (scripts/demo.py): the real bot against the local Bot API stand-in, a scripted
chat printed as a reader sees it — an answer, "more", and `/ask` in a group."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_make_demo_shows_an_answer_more_and_a_group_ask(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("NEWSBOT_", "TELEGRAM_")) and "proxy" not in k.lower()}
    env.update(HOME=str(tmp_path), NEWSBOT_CACHE_DIR=str(tmp_path / "cache"),
               NEWSBOT_SEMANTIC="off", NEWSBOT_DICTIONARY=str(tmp_path / "none"),
               NEWSBOT_THESAURUS=str(tmp_path / "none"))
    done = subprocess.run([sys.executable, "scripts/demo.py"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Ana:\n  Wer will Tiktok kaufen?" in out and "Microsoft" in out
    assert "(taps “Mehr dazu ➜”)" in out and out.count("Quelle: ") == 3
    assert "Ben (group):\n  /ask Wie viele Nutzer hat Tiktok?" in out
    assert "@newsbot_test_bot (group):\n  " in out and "Traceback" not in done.stderr
    assert "demo: done; the bot was stopped" in out
