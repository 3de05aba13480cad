"""A local stand-in for the Telegram Bot API, for offline end-to-end tests (stdlib only).

Point PTB at it with ``Bot(token, base_url=api.base_url)`` (or ``.base_url(api.base_url)`` on
the ApplicationBuilder). ``calls`` holds the requests answered ``ok: true`` (delivered);
everything else (injected faults, "down", API errors) goes to ``faulted_calls`` with
``Call.fault`` saying why. A "timeout" fault answers late but normally, so it is in both.
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import itertools
import json
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

JSONDict = dict[str, Any]
Reply = tuple[int, bytes, str] | None  # status, body, content type; None: drop the connection
Match = Callable[["Call"], bool] | str  # a predicate or a method name

BOT_USER = {"id": 7000000001, "is_bot": True, "first_name": "Newsbot",
            "username": "newsbot_test_bot"}
GET_ME = {**BOT_USER, "can_join_groups": True, "can_read_all_group_messages": False,
          "supports_inline_queries": True}
INT_FIELDS = {"chat_id", "message_id", "offset", "timeout", "limit", "user_id", "cache_time",
              "reply_to_message_id", "message_thread_id", "from_chat_id"}
RAW_FIELDS = {"text", "caption", "query", "data", "url", "callback_query_id", "inline_query_id"}
FAULT_KINDS = {"429", "500", "502", "timeout", "drop"}
NGINX_502 = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>"
             b"502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n"
             b"</body>\r\n</html>\r\n")
NOT_MODIFIED = ("Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message")


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram entity offsets and lengths."""
    return len(text.encode("utf-16-le")) // 2


def auto_entities(text: str) -> list[JSONDict]:
    """A bot_command entity for a leading /command, a mention entity for each @username."""
    entities = []
    if m := re.match(r"/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]+)?", text):
        entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(m.group())})
    for m in re.finditer(r"(?<![\w/@])@[A-Za-z]\w{3,31}", text):
        entities.append({"type": "mention", "offset": utf16_len(text[: m.start()]),
                         "length": utf16_len(m.group())})
    return entities


@dataclass
class Call:
    method: str
    params: JSONDict
    time: float = field(default_factory=time.time)
    fault: str | None = None  # an injected fault kind, "down", or the HTTP code of an API error


@dataclass
class _Fault:
    method: str | None
    kind: str
    times: int
    retry_after: int
    delay: float


class _ApiError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(code, description)
        self.code, self.description = code, description


def _json(status: int, obj: object) -> Reply:
    return status, json.dumps(obj).encode(), "application/json"


def _error(code: int, description: str, **parameters: Any) -> Reply:
    body: JSONDict = {"ok": False, "error_code": code, "description": description}
    return _json(code, {**body, "parameters": parameters} if parameters else body)


def _decode(name: str, value: Any) -> Any:
    """PTB sends scalars as plain strings and lists/objects as JSON strings."""
    if not isinstance(value, str) or name in RAW_FIELDS:
        return value
    if name in INT_FIELDS and re.fullmatch(r"-?\d+(\.\d+)?", value):
        return float(value) if "." in value else int(value)
    if value in ("true", "false"):
        return value == "true"
    if value.startswith(("{", "[")):
        try:
            return json.loads(value)
        except ValueError:
            pass
    return value


def _parse_params(query: str, ctype: str, body: bytes) -> JSONDict:
    params: JSONDict = dict(parse_qsl(query, keep_blank_values=True))
    if ctype.startswith("application/json") and body:
        params.update(json.loads(body))
    elif ctype.startswith("multipart/form-data"):  # only used when files are uploaded
        head = f"Content-Type: {ctype}\r\n\r\n".encode()
        form = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        for part in form.iter_parts():  # type: ignore[attr-defined]
            data = part.get_payload(decode=True) or b""
            name = part.get_param("name", header="content-disposition")
            params[name] = data if part.get_filename() else data.decode()
    elif body:
        params.update(parse_qsl(body.decode(), keep_blank_values=True))
    return {k: _decode(k, v) for k, v in params.items()}


def _user(user_id: int, first_name: str = "Ana", language_code: str = "de") -> JSONDict:
    return {"id": user_id, "is_bot": False, "first_name": first_name,
            "language_code": language_code}


def _chat(chat_id: Any, chat_type: str | None = None, first_name: str = "Ana") -> JSONDict:
    if chat_type is None:
        chat_type = "private" if isinstance(chat_id, int) and chat_id > 0 else "supergroup"
    if chat_type == "private":
        return {"id": chat_id, "type": "private", "first_name": first_name}
    return {"id": chat_id, "type": chat_type, "title": "Test group"}


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # the default backlog of 5 drops connections under load
    daemon_threads = True


class _Handler(BaseHTTPRequestHandler):
    api: FakeBotAPI

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        reply = self.api._dispatch(self.path, self.headers.get("Content-Type", ""), body)
        if reply is None:  # close the socket without any response
            self.close_connection = True
            return
        status, payload, ctype = reply
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(payload)
        except OSError:  # the client gave up already (e.g. after a "timeout" fault)
            pass

    do_GET = do_POST

    def log_message(self, *args: Any) -> None:
        pass


class FakeBotAPI:
    """In-process fake Telegram Bot API server; see the module docstring."""

    def __init__(self, token: str = "123456:TEST-fake-token", port: int = 0) -> None:
        self.token, self.port = token, port
        self.calls: list[Call] = []
        self.faulted_calls: list[Call] = []
        self.tokens_seen: set[str] = set()
        self.results: dict[str, Any] = {}  # extra or overridden methods: value or fn(params)
        self.commands: dict[tuple[str, str], list[Any]] = {}  # (scope JSON, language) -> list
        self.webhook_url = ""
        self.long_polls = 0  # getUpdates requests waiting for an update right now
        self._cond = threading.Condition()  # guards all state; notified on every change
        self._updates: list[JSONDict] = []
        self._update_ids = itertools.count(1)
        self._ids = itertools.count(1)  # message ids and query ids
        self._messages: dict[tuple[Any, Any], JSONDict] = {}  # (chat_id, message_id) -> sent
        self._faults: list[_Fault] = []
        self._down = False
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    # ----- lifecycle ---------------------------------------------------------------------
    def start(self) -> FakeBotAPI:
        handler = type("Handler", (_Handler,), {"api": self})
        self._server = _Server(("127.0.0.1", self.port), handler)
        self.port = self._server.server_address[1]  # kept, so a restart reuses the port
        self._stopping.clear()
        threading.Thread(target=self._server.serve_forever, args=(0.01,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._stopping.set()  # wakes long polls and "timeout" sleeps
            with self._cond:
                self._cond.notify_all()
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeBotAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if not self.port:
            raise RuntimeError("start() the fake first, or give it a port")
        return f"http://127.0.0.1:{self.port}/bot"

    @staticmethod
    def free_port() -> int:
        """A port free right now, to start a fake on later ("Telegram unreachable")."""
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return sock.getsockname()[1]

    # ----- faults ------------------------------------------------------------------------
    def inject(self, method: str | None, kind: str, times: int = 1, retry_after: int = 1,
               delay: float = 15.0) -> None:
        """Fail the next `times` requests to `method` (None: any method) with `kind`."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {sorted(FAULT_KINDS)}")
        with self._cond:
            self._faults.append(_Fault(method, kind, times, retry_after, delay))

    def set_down(self, down: bool = True) -> None:
        """While down, every request is answered 502 (Telegram unreachable)."""
        self._down = down

    def _take_fault(self, method: str) -> _Fault | None:
        with self._cond:
            for fault in self._faults:
                if fault.method is None or fault.method.lower() == method.lower():
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    # ----- inspection --------------------------------------------------------------------
    def calls_of(self, method: str) -> list[Call]:
        return self._matching(method)

    def sent_texts(self, chat_id: int | None = None) -> list[str]:
        """Texts of delivered sendMessage/editMessageText calls, in order."""
        return [str(c.params.get("text")) for c in self._matching(
            lambda c: c.method in ("sendMessage", "editMessageText")
            and (chat_id is None or c.params.get("chat_id") == chat_id))]

    def _matching(self, what: Match) -> list[Call]:
        with self._cond:
            return [c for c in self.calls if (c.method == what if isinstance(what, str)
                                              else what(c))]

    def wait_for(self, what: Match, count: int = 1, timeout: float = 10) -> list[Call]:
        """Block until `count` delivered calls match; returns all matches. This blocks the
        thread: when the bot runs in the caller's event loop, use `await_for`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(found := self._matching(what)) < count:
                if (left := deadline - time.monotonic()) <= 0:
                    raise AssertionError(self._summary(what, count, timeout, len(found)))
                self._cond.wait(left)
        return found

    def wait_for_long_poll(self, timeout: float = 10) -> None:
        """Block until a getUpdates request is waiting (the next update wakes it)."""
        with self._cond:
            if not self._cond.wait_for(lambda: self.long_polls > 0, timeout):
                raise AssertionError(f"no getUpdates waited within {timeout} s")

    async def await_for(self, what: Match, count: int = 1, timeout: float = 10) -> list[Call]:
        """`wait_for` that yields to the event loop while it polls."""
        deadline = time.monotonic() + timeout
        while len(found := self._matching(what)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(self._summary(what, count, timeout, len(found)))
            await asyncio.sleep(0.02)
        return found

    def _summary(self, what: Match, count: int, timeout: float, found: int) -> str:
        name = repr(what) if isinstance(what, str) else getattr(what, "__name__", "predicate")
        with self._cond:
            shown = [c for c in self.calls + self.faulted_calls if c.method != "getUpdates"]
            polls = len(self.calls) + len(self.faulted_calls) - len(shown)
        lines = [f"expected {count} call(s) matching {name} within {timeout}s, got {found}; "
                 f"calls so far (plus {polls} getUpdates):"]
        lines += [f"  {c.method}{f' [FAULT {c.fault}]' if c.fault else ''} "
                  f"{json.dumps(c.params, ensure_ascii=False, default=repr)[:200]}"
                  for c in sorted(shown, key=lambda c: c.time)[-40:]]
        return "\n".join(lines)

    # ----- updates -----------------------------------------------------------------------
    def push_update(self, update: JSONDict) -> int:
        """Queue an update for getUpdates, assigning (and returning) its update_id."""
        return self._push(update)["update_id"]

    def _push(self, update: JSONDict, push: bool = True) -> JSONDict:
        if not push:
            return update
        with self._cond:
            update = {**update, "update_id": next(self._update_ids)}
            self._updates.append(update)
            self._cond.notify_all()
        return update

    def _new_message(self, user_id: int, chat_id: int | None, chat_type: str,
                     first_name: str = "Ana", language_code: str = "de") -> JSONDict:
        if chat_id is None:
            chat_id = user_id if chat_type == "private" else -1000000000000 - user_id
        return {"message_id": next(self._ids), "date": int(time.time()),
                "chat": _chat(chat_id, chat_type, first_name),
                "from": _user(user_id, first_name, language_code)}

    # The builders below push the update (unless push=False) and return it.
    def message(self, text: str, user_id: int = 1001, chat_id: int | None = None,
                chat_type: str = "private", first_name: str = "Ana", language_code: str = "de",
                entities: list[JSONDict] | None = None, reply_to_message: JSONDict | None = None,
                push: bool = True) -> JSONDict:
        """A text message; entities default to `auto_entities(text)`."""
        msg = self._new_message(user_id, chat_id, chat_type, first_name, language_code)
        msg["text"] = text
        if ents := auto_entities(text) if entities is None else entities:
            msg["entities"] = ents
        if reply_to_message is not None:
            msg["reply_to_message"] = reply_to_message
        return self._push({"message": msg}, push)

    def mention(self, text: str, user_id: int = 1001, chat_id: int | None = None,
                chat_type: str = "supergroup", push: bool = True) -> JSONDict:
        """A group message addressing the bot by @username (prepended if absent)."""
        if f"@{BOT_USER['username']}" not in text:
            text = f"@{BOT_USER['username']} {text}"
        return self.message(text, user_id, chat_id, chat_type, push=push)

    def callback_query(self, data: str, user_id: int = 1001, chat_id: int | None = None,
                       message_id: int | None = None, message_text: str | None = None,
                       push: bool = True) -> JSONDict:
        """A button press on `message_id`, by default the bot's last message in the chat."""
        chat_id = user_id if chat_id is None else chat_id
        with self._cond:
            sent = [m for c, m in self._messages if c == chat_id]
            message_id = message_id or max(sent, default=None) or next(self._ids)
            msg = dict(self._messages.get((chat_id, message_id)) or {
                "message_id": message_id, "date": int(time.time()), "chat": _chat(chat_id),
                "from": BOT_USER, "text": "…"})
        if message_text is not None:
            msg["text"] = message_text
        query = {"id": str(next(self._ids)), "from": _user(user_id), "message": msg,
                 "chat_instance": f"ci{chat_id}", "data": data}
        return self._push({"callback_query": query}, push)

    def inline_query(self, query: str, user_id: int = 1001, push: bool = True) -> JSONDict:
        inline = {"id": str(next(self._ids)), "from": _user(user_id), "query": query,
                  "offset": ""}
        return self._push({"inline_query": inline}, push)

    def sticker(self, user_id: int = 1001, chat_id: int | None = None,
                chat_type: str = "private", push: bool = True) -> JSONDict:
        msg = self._new_message(user_id, chat_id, chat_type)
        msg["sticker"] = {"file_id": "CAACAgIAAxkBAAEStk", "file_unique_id": "AgADstk",
                          "type": "regular", "width": 512, "height": 512, "emoji": "😀",
                          "is_animated": False, "is_video": False}
        return self._push({"message": msg}, push)

    def photo(self, user_id: int = 1001, chat_id: int | None = None, chat_type: str = "private",
              caption: str | None = None, push: bool = True) -> JSONDict:
        msg = self._new_message(user_id, chat_id, chat_type)
        msg["photo"] = [{"file_id": f"AgACAgIAAxkBAAEPh{w}", "file_unique_id": f"AQADph{w}",
                         "width": w, "height": w * 3 // 4, "file_size": w * 60} for w in (90, 320)]
        if caption is not None:
            msg["caption"] = caption
        return self._push({"message": msg}, push)

    # ----- request handling --------------------------------------------------------------
    def _dispatch(self, path: str, ctype: str, body: bytes) -> Reply:
        url = urlsplit(path)
        if not (m := re.fullmatch(r"/bot([^/]+)/(\w+)", url.path)):
            return _error(404, "Not Found")  # e.g. /file/bot<token>/<path> downloads
        token, method = m.groups()
        with self._cond:
            self.tokens_seen.add(token)
        if token != self.token:
            return _error(401, "Unauthorized")
        try:
            call = Call(method, _parse_params(url.query, ctype, body))
        except ValueError as exc:
            return _error(400, f"Bad Request: can't parse request: {exc}")
        fault = None if self._down else self._take_fault(method)
        if self._down or (fault and fault.kind != "timeout"):
            call.fault = "down" if self._down else fault.kind  # type: ignore[union-attr]
            if call.fault == "429":
                after = fault.retry_after  # type: ignore[union-attr]
                reply = _error(429, f"Too Many Requests: retry after {after}", retry_after=after)
            elif call.fault == "500":
                reply = _error(500, "Internal Server Error")
            else:
                reply = None if call.fault == "drop" else (502, NGINX_502, "text/html")
            return self._record(call, reply)
        if fault and self._stopping.wait(fault.delay):  # "timeout": answer late, normally
            return None
        call.fault = fault.kind if fault else None
        impl = self.results.get(method, getattr(self, f"_api_{method}", None))
        try:
            if impl is None:
                raise _ApiError(404, "Not Found: method not found")
            result = impl(call.params) if callable(impl) else impl
        except _ApiError as exc:
            call.fault = str(exc.code)
            return self._record(call, _error(exc.code, exc.description))
        return self._record(call, _json(200, {"ok": True, "result": result}))

    def _record(self, call: Call, reply: Reply) -> Reply:
        with self._cond:
            if call.fault in (None, "timeout"):
                self.calls.append(call)
            if call.fault is not None:
                self.faulted_calls.append(call)
            self._cond.notify_all()
        return reply

    # ----- Bot API methods; `p` holds the decoded parameters ------------------------------
    def _api_getMe(self, p: JSONDict) -> JSONDict:
        return GET_ME

    def _api_getUpdates(self, p: JSONDict) -> list[JSONDict]:
        if self.webhook_url:
            raise _ApiError(409, "Conflict: can't use getUpdates method while webhook is "
                                 "active; use deleteWebhook to delete the webhook first")
        offset, limit = int(p.get("offset") or 0), int(p.get("limit") or 100)
        deadline = time.monotonic() + float(p.get("timeout") or 0)
        with self._cond:
            if offset > 0:  # confirms (forgets) every update below offset
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            elif offset < 0:
                self._updates = self._updates[offset:]
            self.long_polls += 1
            self._cond.notify_all()
            try:
                while not self._updates and not self._stopping.is_set():
                    if (left := deadline - time.monotonic()) <= 0:
                        break
                    self._cond.wait(left)
            finally:
                self.long_polls -= 1
            return self._updates[:limit]

    def _api_sendMessage(self, p: JSONDict) -> JSONDict:
        if not isinstance(chat_id := p.get("chat_id"), int):
            raise _ApiError(400, "Bad Request: chat not found")
        msg = {"message_id": next(self._ids), "date": int(time.time()), "chat": _chat(chat_id),
               "from": BOT_USER}
        self._set_content(msg, p, str(p.get("text", "")))
        with self._cond:
            self._messages[(chat_id, msg["message_id"])] = msg
        return msg

    def _api_editMessageText(self, p: JSONDict) -> JSONDict | bool:
        return self._edit(p, str(p.get("text", "")))

    def _api_editMessageReplyMarkup(self, p: JSONDict) -> JSONDict | bool:
        return self._edit(p, None)

    def _edit(self, p: JSONDict, text: str | None) -> JSONDict | bool:
        if "inline_message_id" in p:
            return True
        key = (p.get("chat_id"), p.get("message_id"))
        with self._cond:
            old = self._messages.get(key)
        new = dict(old or {"message_id": key[1], "date": int(time.time()),
                           "chat": _chat(key[0]), "from": BOT_USER, "text": text or "…"})
        self._set_content(new, p, new["text"] if text is None else text, text is not None)
        if old and all(old.get(k) == new.get(k) for k in ("text", "reply_markup")):
            raise _ApiError(400, NOT_MODIFIED)
        new["edit_date"] = int(time.time())
        with self._cond:
            self._messages[key] = new
        return new

    @staticmethod
    def _set_content(msg: JSONDict, p: JSONDict, text: str, new_text: bool = True) -> None:
        if not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if utf16_len(text) > 4096:
            raise _ApiError(400, "Bad Request: message is too long")
        msg["text"] = text
        if new_text:  # entities belong to the text; no parse_mode handling in this fake
            msg.pop("entities", None)
            if isinstance(p.get("entities"), list):
                msg["entities"] = p["entities"]
        markup = p.get("reply_markup")  # like Telegram, echo back inline keyboards only
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            msg["reply_markup"] = markup
        else:
            msg.pop("reply_markup", None)

    def _commands_key(self, p: JSONDict) -> tuple[str, str]:
        scope = p.get("scope") if isinstance(p.get("scope"), dict) else {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(p.get("language_code", ""))

    def _api_setMyCommands(self, p: JSONDict) -> bool:
        with self._cond:
            self.commands[self._commands_key(p)] = p.get("commands") or []
        return True

    def _api_deleteMyCommands(self, p: JSONDict) -> bool:
        with self._cond:
            self.commands.pop(self._commands_key(p), None)
        return True

    def _api_getMyCommands(self, p: JSONDict) -> list[Any]:
        return self.commands.get(self._commands_key(p), [])

    def _api_setWebhook(self, p: JSONDict) -> bool:
        self.webhook_url = str(p.get("url", ""))
        return True

    def _api_deleteWebhook(self, p: JSONDict) -> bool:
        self.webhook_url = ""
        if p.get("drop_pending_updates"):
            with self._cond:
                self._updates.clear()
        return True

    def _api_getWebhookInfo(self, p: JSONDict) -> JSONDict:
        return {"url": self.webhook_url, "has_custom_certificate": False,
                "pending_update_count": len(self._updates)}

    def _api_answerCallbackQuery(self, p: JSONDict) -> bool:
        return True

    _api_answerInlineQuery = _api_sendChatAction = _api_close = _api_logOut = (
        _api_answerCallbackQuery)
