"""Telegram unreachable at start-up behind a proxy answering 502 with an HTML page (issue 21):
one warning line per retry, no JSONDecodeError traceback, no HTML in the log."""

from __future__ import annotations

import threading
import time

from fake_botapi import FakeBotAPI
from test_e2e import TOKEN, BotProcess, bot_env


def test_a_502_at_start_up_is_one_line_per_retry(tmp_path):
    with FakeBotAPI(TOKEN) as api:
        api.set_down(True)

        def come_back() -> None:
            for _ in range(1200):  # until two attempts failed (the bot's retries, ~1 s apart)
                if len(api.faulted_calls) >= 2:
                    break
                time.sleep(0.05)
            api.set_down(False)

        threading.Thread(target=come_back, daemon=True).start()
        env = bot_env(tmp_path, tmp_path / "cache", api.base_url, NEWSBOT_LOG_LEVEL="INFO",
                      NEWSBOT_DICTIONARY=str(tmp_path / "none"),
                      NEWSBOT_THESAURUS=str(tmp_path / "none"))
        bot = BotProcess(api, env, tmp_path).start()
        bot.terminate()
    log = bot.output()
    assert log.count("cannot reach Telegram (Bad Gateway (502)); trying again") >= 2
    assert "Traceback" not in log and "<html>" not in log and "JSONDecodeError" not in log
