"""The fake Bot API, driven by PTB's own telegram.Bot so its encoding/decoding is what we test."""

import asyncio
import threading
import urllib.request

import httpx
import pytest
from fake_botapi import FakeBotAPI, utf16_len
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, MessageEntity
from telegram.error import (
    BadRequest,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import HTTPXRequest

TOKEN = "123456:TEST-fake-token"


def make_bot(api: FakeBotAPI, token: str = TOKEN) -> Bot:
    # verify=False only skips loading the CA bundle (~50 ms per client); the URL is plain http.
    def request() -> HTTPXRequest:
        return HTTPXRequest(httpx_kwargs={"verify": False})

    return Bot(token, base_url=api.base_url, request=request(), get_updates_request=request())


@pytest.fixture
async def bot(api):
    async with make_bot(api) as b:  # initialize() calls getMe
        yield b


async def test_get_me(api, bot):
    me = await bot.get_me()
    assert (me.username, me.first_name, me.is_bot) == ("newsbot_test_bot", "Newsbot", True)
    assert me.supports_inline_queries and not me.can_read_all_group_messages
    assert len(api.calls_of("getMe")) == 2 and api.tokens_seen == {TOKEN}


async def test_send_message_decodes_reply_markup(api, bot):
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Mehr", callback_data="more:1")]])
    msg = await bot.send_message(1001, "Hallo [1]", reply_markup=markup)
    assert msg.text == "Hallo [1]" and msg.chat.id == 1001 and msg.from_user.is_bot
    assert msg.reply_markup == markup
    (call,) = api.calls_of("sendMessage")
    assert call.params["chat_id"] == 1001 and call.params["text"] == "Hallo [1]"
    assert call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "more:1"
    edited = await bot.edit_message_text("Neu", chat_id=1001, message_id=msg.message_id)
    assert edited.text == "Neu" and edited.reply_markup is None
    assert api.sent_texts() == ["Hallo [1]", "Neu"] and api.sent_texts(chat_id=5) == []


async def test_get_updates_offset_and_long_poll(api, bot):
    assert api.message("/start@newsbot_test_bot hi")["update_id"] == 1
    assert api.push_update(api.message("/help", push=False)) == 2
    updates = await bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [1, 2]
    assert updates[1].message.text == "/help"
    assert updates[1].message.entities[0].type == MessageEntity.BOT_COMMAND
    assert (await bot.get_updates(offset=3, timeout=0)) == ()
    assert (await bot.get_updates(offset=1, timeout=0)) == ()  # 1 and 2 were confirmed
    poll = asyncio.create_task(bot.get_updates(offset=3, timeout=30))
    await asyncio.to_thread(api.wait_for_long_poll)
    api.message("spät")
    # woken by the update: long before the poll's own 30 s (the bound only ends a hang)
    (late,) = await asyncio.wait_for(poll, 10)
    assert late.message.text == "spät"


async def test_bot_command_entity_is_what_ptb_sees(api, bot):
    api.message("/start@newsbot_test_bot payload", chat_type="group")
    (u,) = await bot.get_updates()
    assert list(u.message.parse_entities([MessageEntity.BOT_COMMAND]).values()) == [
        "/start@newsbot_test_bot"]
    assert u.message.chat.type == "group" and u.message.chat.id < 0


async def test_mention_offsets_are_utf16(api, bot):
    api.mention("Wer regiert 🇩🇪 @newsbot_test_bot?")
    (u,) = await bot.get_updates()
    assert list(u.message.parse_entities(["mention"]).values()) == ["@newsbot_test_bot"]
    prefix = "Wer regiert 🇩🇪 "
    assert u.message.entities[0].offset == utf16_len(prefix) == 17 != len(prefix)


async def test_callback_query_refers_to_sent_message(api, bot):
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Quelle", callback_data="src")]])
    sent = await bot.send_message(1001, "Antwort", reply_markup=markup)
    api.callback_query("src")
    (u,) = await bot.get_updates()
    cq = u.callback_query
    assert cq.data == "src" and cq.from_user.id == 1001
    assert cq.message.message_id == sent.message_id and cq.message.reply_markup == markup
    assert await cq.answer("ok") is True
    assert api.calls_of("answerCallbackQuery")[0].params["text"] == "ok"


async def test_inline_query_sticker_and_photo_parse(api, bot):
    api.inline_query("wahl", user_id=7)
    api.sticker()
    api.photo(caption="Bild")
    inline, sticker, photo = await bot.get_updates()
    assert inline.inline_query.query == "wahl" and inline.inline_query.from_user.id == 7
    assert sticker.message.sticker.type == "regular" and not sticker.message.sticker.is_video
    assert photo.message.photo[-1].width == 320 and photo.message.caption == "Bild"


async def test_commands_webhook_and_multipart(api, bot):
    await bot.set_my_commands([("start", "Start"), ("help", "Hilfe")], language_code="de")
    assert [c.command for c in await bot.get_my_commands(language_code="de")] == [
        "start", "help"]
    assert await bot.get_my_commands() == ()
    await bot.send_chat_action(1001, "typing")
    assert await bot.delete_webhook(drop_pending_updates=True)
    api.results["sendDocument"] = lambda p: {"message_id": 99, "date": 1, "chat": {
        "id": p["chat_id"], "type": "private"}, "caption": p["caption"]}
    await bot.send_document(1001, InputFile(b"%PDF-1", filename="a.pdf"), caption="[x]")
    params = api.calls_of("sendDocument")[0].params
    assert params["document"] == b"%PDF-1" and params["caption"] == "[x]"
    assert params["chat_id"] == 1001


async def test_json_body_and_api_errors(api, bot):
    markup = {"inline_keyboard": [[{"text": "a", "callback_data": "b"}]]}
    body = {"chat_id": 42, "text": "per JSON", "reply_markup": markup}
    async with httpx.AsyncClient() as client:
        r = await client.post(f"{api.base_url}{TOKEN}/sendMessage", json=body)
    assert r.json()["result"]["reply_markup"] == markup
    msg_id = r.json()["result"]["message_id"]
    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_reply_markup(42, msg_id, reply_markup=markup)
    with pytest.raises(BadRequest, match="too long"):
        await bot.send_message(42, "x" * 4097)
    assert api.sent_texts(42) == ["per JSON"]
    assert [c.fault for c in api.faulted_calls] == ["400", "400"]


async def test_wrong_token_is_invalid_token(api):
    with pytest.raises(InvalidToken):
        async with make_bot(api, "999:WRONG"):
            pass
    assert "999:WRONG" in api.tokens_seen and api.calls == []


async def test_unknown_method_is_404(api, bot):
    with pytest.raises(TelegramError, match="not found"):
        await bot.do_api_request("noSuchMethod")


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_429_and_faulted_send_is_not_delivered(api, bot):
    api.inject("sendMessage", "429", retry_after=3)
    with pytest.raises(RetryAfter, match="Retry in 3"):
        await bot.send_message(1001, "lost")
    await bot.send_message(1001, "after")
    assert api.sent_texts() == ["after"]
    assert [(c.method, c.fault, c.params["text"]) for c in api.faulted_calls] == [
        ("sendMessage", "429", "lost")]


@pytest.mark.parametrize("kind", ["500", "502", "drop"])
async def test_server_faults_raise_network_error(api, bot, kind):
    api.inject(None, kind, times=2)
    for _ in range(2):
        with pytest.raises(NetworkError):
            await bot.send_message(1001, "x")
    assert (await bot.send_message(1001, "y")).text == "y"
    assert api.sent_texts() == ["y"] and len(api.faulted_calls) == 2


async def test_timeout_fault_is_late_but_delivered(api, bot):
    api.inject("sendMessage", "timeout", delay=0.3)
    with pytest.raises(TimedOut):
        await bot.send_message(1001, "slow", read_timeout=0.1)
    (call,) = await api.await_for("sendMessage", timeout=2)
    assert call.fault == "timeout" and api.faulted_calls == [call]


async def test_down_and_unreachable_at_startup():
    port = FakeBotAPI.free_port()
    api = FakeBotAPI(TOKEN, port=port)
    bot = make_bot(api)
    with pytest.raises(NetworkError):
        await bot.initialize()  # nothing listens yet
    with api:
        api.set_down(True)
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.initialize()
        api.set_down(False)
        await bot.initialize()
        assert (await bot.get_me()).username == "newsbot_test_bot"
        assert [c.fault for c in api.faulted_calls] == ["down"]
        await bot.shutdown()


def test_wait_for_reports_calls_so_far(api):
    api.message("/start")
    threading.Timer(0.05, urllib.request.urlopen, args=(f"{api.base_url}{TOKEN}/getMe",)).start()
    assert api.wait_for("getMe", timeout=2)[0].method == "getMe"
    with pytest.raises(AssertionError, match=r"(?s)expected 2 .*'sendMessage'.*getMe"):
        api.wait_for("sendMessage", count=2, timeout=0.1)


async def test_stop_wakes_long_poll(api, bot):
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await asyncio.to_thread(api.wait_for_long_poll)
    api.stop()
    (outcome,) = await asyncio.wait_for(asyncio.gather(poll, return_exceptions=True), 2)
    assert outcome == () or isinstance(outcome, NetworkError)
