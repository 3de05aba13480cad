"""End-to-end load: users asking through the real PTB Application and the local Bot API
stand-in (tests/fake_botapi.py) over a synthetic knowledge base of N passages.

Each of `--users` users asks `--questions` questions one after another (the next after the
answer and a think time of 1 to `--think` seconds), as people do. Latency is measured from the
moment the bot receives an update (a handler in group -1 notes it) to the moment the stand-in
receives the reply.

    .venv/bin/python benchmarks/telegram_load.py --passages 1000000   # README figures
    .venv/bin/python benchmarks/telegram_load.py --passages 10000     # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path

from telegram import Update
from telegram.ext import TypeHandler

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import bench  # noqa: E402  (benchmarks/bench.py, next to this file)
from fake_botapi import FakeBotAPI  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.indexing import build, storage  # noqa: E402
from bot.indexing.loading import warm_up  # noqa: E402
from bot.telegram.app import build_application, freeze_heap  # noqa: E402

TOKEN = "123456789:AAHloadTESTloadTESTloadTESTloadTEST1"


async def run(passages: int, users: int, questions: int, think: float) -> int:
    """Build the engine, serve the stand-in, let the users ask; print the figures."""
    started = time.perf_counter()
    articles, asked = bench.make_corpus(passages, users * questions)
    with tempfile.TemporaryDirectory() as work:  # build and save, then start as `run` does
        folder = Path(work, "knowledge")
        folder.mkdir()
        Path(folder, "synthetic.txt").write_text("newsbot load test\n")
        files = storage.fingerprint(folder)
        storage.save(build.build_engine(articles), Path(work, "index"), files)
        del articles
        engine = storage.load(Path(work, "index"))
        warm_up(engine)
        freeze_heap()
        print(f"{passages:,} passages indexed and loaded in {time.perf_counter() - started:.0f} s")
        return await serve(engine, asked, users, questions, think)


async def serve(engine: object, asked: list[str], users: int, questions: int,
                think: float) -> int:
    """Serve the stand-in with the engine while the users ask; print the figures."""
    api = FakeBotAPI(TOKEN).start()
    settings = Settings(token=TOKEN, base_url=api.base_url, flood_limit=10_000)
    application = build_application(settings, engine)
    received: dict[tuple[int, int], float] = {}

    async def note(update: Update, _: object) -> None:
        if update.effective_message:
            key = (update.effective_message.chat_id, update.effective_message.message_id)
            received[key] = time.time()

    application.add_handler(TypeHandler(Update, note), group=-1)
    rng = random.Random(7)
    answered: dict[int, asyncio.Event] = {}

    async def watch() -> None:  # one cheap watcher instead of 50 pollers scanning all calls
        seen = 0
        while True:
            calls = api.calls[seen:]
            seen += len(calls)
            for call in calls:
                if call.method == "sendMessage":
                    answered.setdefault(int(call.params["chat_id"]), asyncio.Event()).set()
            await asyncio.sleep(0.005)

    async def user(uid: int) -> None:
        await asyncio.sleep(rng.uniform(0, think))  # people don't all start in the same instant
        for n in range(questions):
            event = answered[uid] = asyncio.Event()
            api.message(asked[(uid * questions + n) % len(asked)], user_id=uid)
            await asyncio.wait_for(event.wait(), timeout=60)
            await asyncio.sleep(rng.uniform(1.0, max(think, 1.0)))

    async with application:
        await application.start()
        await application.updater.start_polling(poll_interval=0.0, timeout=1)
        clock, watcher = time.perf_counter(), asyncio.create_task(watch())
        await asyncio.gather(*(user(10_000 + i) for i in range(users)))
        wall = time.perf_counter() - clock
        watcher.cancel()
        await application.updater.stop()
        await application.stop()
    api.stop()
    replies = [c for c in api.calls_of("sendMessage")]
    latencies = sorted(
        (c.time - received[(int(c.params["chat_id"]), int(_quoted(c)))]) * 1000
        for c in replies if (int(c.params["chat_id"]), int(_quoted(c))) in received
    )
    expected, got = users * questions, len(replies)
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
    print(f"{users} users × {questions} questions: {got} of {expected} answered, "
          f"{len(set(map(_key, replies)))} distinct, in {wall:.1f} s")
    print(f"update received → reply sent: p50 {p(0.5):.1f} ms, p99 {p(0.99):.1f} ms, "
          f"max {latencies[-1]:.1f} ms")
    return 0 if got == expected == len(set(map(_key, replies))) else 1


def _quoted(call: object) -> int:
    reply = call.params.get("reply_parameters") or {}  # type: ignore[attr-defined]
    return int(reply.get("message_id") or call.params.get("reply_to_message_id") or -1)  # type: ignore[attr-defined]


def _key(call: object) -> tuple[int, int]:
    return int(call.params["chat_id"]), _quoted(call)  # type: ignore[attr-defined]


def main() -> int:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passages", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--questions", type=int, default=10)
    # 1–4 s between a user's questions: 50 users then ask ~20 a second, below the 30 messages
    # a second Telegram allows a bot and its 1 a second per chat (AIORateLimiter keeps both).
    parser.add_argument("--think", type=float, default=4.0, help="max seconds between questions")
    args = parser.parse_args()
    return asyncio.run(run(args.passages, args.users, args.questions, args.think))


if __name__ == "__main__":
    raise SystemExit(main())
