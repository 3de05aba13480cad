"""`make demo`: see the Telegram side without a token.

Starts the local Bot API stand-in (tests/fake_botapi.py) and the real bot (`newsbot run`, a
process of its own) against it, then plays a short chat and prints it as a reader would see
it: a question in a private chat and its answer, the "more" button, and `/ask` in a group.
Nothing leaves the machine; the knowledge folder is NEWSBOT_KNOWLEDGE_DIR (from the environment)
or the seed in knowledge/.

    make demo
    .venv/bin/python scripts/demo.py --question "Wer will Tiktok kaufen?"
"""

from __future__ import annotations

import argparse
import html
import os
import re
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from fake_botapi import BOT_USER, FakeBotAPI  # noqa: E402

TOKEN = "123456789:AAHdemoDEMOdemoDEMOdemoDEMOdemoDEMO1"  # a fake: only the stand-in knows it
USER, GROUP = 4242, -1004242
WAIT = 120  # seconds for the bot to start (a first start prepares the dictionary) or to answer


def plain(text: str) -> str:
    """What a reader sees of the bot's Telegram HTML."""
    return html.unescape(re.sub(r"</?[a-z-]+(?:\s[^<>]*)?>", "", text))


def show(who: str, text: str, button: str | None = None) -> None:
    print(f"\n{who}:")
    for line in text.splitlines() or [""]:
        print(f"  {line}")
    if button:
        print(f"  [ {button} ]")
    sys.stdout.flush()


def _button(params: dict) -> tuple[str, str] | None:
    markup = params.get("reply_markup") or {}
    rows = markup.get("inline_keyboard") or []
    return (rows[0][0]["text"], rows[0][0]["callback_data"]) if rows else None


def _reply(api: FakeBotAPI, chat: int, count: int) -> dict:
    sent = api.wait_for(lambda c: c.method == "sendMessage" and c.params.get("chat_id") == chat,
                        count, timeout=WAIT)
    return sent[count - 1].params


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--question", default="Wer will Tiktok kaufen?")
    parser.add_argument("--group-question", default="Wie viele Nutzer hat Tiktok?")
    args = parser.parse_args()
    with FakeBotAPI(TOKEN) as api, tempfile.TemporaryDirectory() as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
        env.update(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_BASE_URL=api.base_url,
                   NEWSBOT_INDEX_DIR=str(Path(home) / "index"),
                   NEWSBOT_LOG_LEVEL=env.get("NEWSBOT_LOG_LEVEL", "WARNING"),
                   NO_PROXY="127.0.0.1,localhost")
        env.setdefault("NEWSBOT_KNOWLEDGE_DIR", str(ROOT / "knowledge"))  # the seed
        print(f"demo: the Bot API stand-in listens on {api.base_url}; starting the bot "
              "(`newsbot run`) against it …", flush=True)
        bot = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=ROOT, env=env)
        try:
            api.wait_for("setMyCommands", 2, timeout=WAIT)
            print(f"demo: @{BOT_USER['username']} is up. A private chat:", flush=True)
            show("Ana", args.question)
            api.message(args.question, user_id=USER)
            first = _reply(api, USER, 1)
            more = _button(first)
            show(f"@{BOT_USER['username']}", plain(first["text"]), more and more[0])
            if more:
                show("Ana", f"(taps “{more[0]}”)")
                api.callback_query(more[1], user_id=USER)
                second = _reply(api, USER, 2)
                next_button = _button(second)
                show(f"@{BOT_USER['username']}", plain(second["text"]),
                     next_button and next_button[0])
            print("\ndemo: in a group, the bot answers /ask (and mentions):", flush=True)
            ask = f"/ask {args.group_question}"
            show("Ben (group)", ask)
            api.message(ask, user_id=USER + 1, chat_id=GROUP, chat_type="supergroup")
            show(f"@{BOT_USER['username']} (group)", plain(_reply(api, GROUP, 1)["text"]))
        finally:
            bot.send_signal(signal.SIGTERM)
            try:
                bot.wait(30)
            except subprocess.TimeoutExpired:
                bot.kill()
    print("\ndemo: done; the bot was stopped. With a token from @BotFather in .env, "
          "`make run` serves Telegram itself.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
