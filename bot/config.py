"""Settings, read once at start-up from the environment and an optional `.env` file.

The environment wins over `.env`; nothing here runs at import time.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import ConfigError

DEFAULT_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_DICTIONARY = "/usr/share/dictd/freedict-eng-deu.index"
DEFAULT_THESAURUS = "/usr/share/openthesaurus-de/openthesaurus.txt"
# A token from @BotFather: the bot's numeric id, a colon, 35 characters of [A-Za-z0-9_-].
TOKEN_RE = re.compile(r"^\d{5,}:[A-Za-z0-9_-]{30,}$")
FEED_INTERVAL, MIN_FEED_INTERVAL = 900, 300  # seconds between feed rounds while the bot runs


@dataclass(frozen=True)
class Settings:
    """Everything newsbot can be told, with its defaults (see `.env.example`)."""

    token: str | None = field(default=None, repr=False)
    base_url: str = DEFAULT_BASE_URL
    knowledge_dir: Path = Path("knowledge")
    index_dir: Path | None = None
    vectors_dir: Path | None = None  # None: <index>/vectors
    dictionary: Path = Path(DEFAULT_DICTIONARY)
    thesaurus: Path = Path(DEFAULT_THESAURUS)
    cache_dir: Path = Path.home() / ".cache" / "newsbot"
    log_level: str | None = None  # None: INFO for run/index, WARNING for the console commands
    admin_ids: frozenset[int] = frozenset()
    webhook_url: str | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    webhook_secret: str | None = field(default=None, repr=False)
    webhook_path: str = "telegram"
    flood_limit: int = 12
    flood_window: float = 10.0
    max_question_chars: int = 500
    semantic: bool = True  # NEWSBOT_SEMANTIC=off: BM25 alone, no model loaded
    feeds: tuple[str, ...] = ()
    feed_interval: float = FEED_INTERVAL
    state_dir: Path | None = None  # the question log's folder; None: no log (tests, benchmarks)
    question_log: bool = True  # NEWSBOT_QUESTION_LOG=off: counts only, no text, no ids
    log_days: int = 30  # question log rows older than this are deleted

    @property
    def saved_index_dir(self) -> Path:
        """Where `newsbot index` saves the index: NEWSBOT_INDEX_DIR or `<knowledge>/.newsbot`."""
        return self.index_dir or self.knowledge_dir / ".newsbot"

    @property
    def saved_vectors_dir(self) -> Path:
        """Where the vectors are saved: NEWSBOT_VECTORS_DIR or `<index>/vectors`. Vectors are
        keyed by their text, so one folder can serve several knowledge folders."""
        return self.vectors_dir or self.saved_index_dir / "vectors"

    def require_token(self) -> str:
        """Return the bot token, or raise ConfigError saying how to get one."""
        if not self.token:
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN is not set: get a token from @BotFather and put "
                "TELEGRAM_BOT_TOKEN=... into .env (see .env.example)"
            )
        if not TOKEN_RE.match(self.token):
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN is malformed: it should look like 123456789:AAH... "
                "(copy it again from @BotFather)"
            )
        return self.token


def read_dotenv(path: Path) -> dict[str, str]:
    """Parse KEY=VALUE lines of a `.env` file (comments, `export`, and quotes allowed)."""
    values: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError):
        return values
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    for line in text.lstrip("\ufeff").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.removeprefix("export ").split("=", 1)
        value = value.strip()
        if value[:1] in ("'", '"') and value.find(value[0], 1) > 0:
            value = value[1 : value.find(value[0], 1)]  # "quoted" # comment
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key.strip()] = value
    return values


def _int(env: dict[str, str], key: str, default: int) -> int:
    raw = env.get(key, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{key} must be a whole number, not {raw!r}") from None


def _positive(env: dict[str, str], key: str, default: int) -> int:
    value = _int(env, key, default)
    if value < 1:
        raise ConfigError(f"{key} must be at least 1, not {value}")
    return value


def _port(env: dict[str, str]) -> int:
    port = _int(env, "NEWSBOT_WEBHOOK_PORT", 8443)
    if not 1 <= port <= 65535:
        raise ConfigError(f"NEWSBOT_WEBHOOK_PORT must be a port from 1 to 65535, not {port}")
    return port


def _number(env: dict[str, str], key: str, default: float) -> float:
    raw = env.get(key, "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError:
        value = -1.0
    if value <= 0:
        raise ConfigError(f"{key} must be a positive number of seconds, not {raw!r}")
    return value


def _ids(raw: str) -> frozenset[int]:
    try:
        return frozenset(int(part) for part in re.split(r"[,\s]+", raw.strip()) if part)
    except ValueError:
        raise ConfigError(
            f"NEWSBOT_ADMIN_IDS must be Telegram user ids separated by commas, not {raw!r}"
        ) from None


def _feeds(raw: str) -> tuple[str, ...]:
    feeds = tuple(dict.fromkeys(part for part in re.split(r"[,\s]+", raw.strip()) if part))
    for url in feeds:
        if not re.match(r"(?i)^https?://[^/\s]+", url):
            raise ConfigError(f"NEWSBOT_FEEDS must list http(s) feed URLs, not {url!r}")
    return feeds


def _feed_interval(env: dict[str, str]) -> float:
    raw = env.get("NEWSBOT_FEED_INTERVAL", "").strip()
    try:
        value = float(raw) if raw else FEED_INTERVAL
    except ValueError:
        value = -1.0
    if not MIN_FEED_INTERVAL <= value < float("inf"):
        raise ConfigError(
            f"NEWSBOT_FEED_INTERVAL must be a number of seconds, at least {MIN_FEED_INTERVAL} "
            f"(polite to the sites), not {raw!r}"
        )
    return value


def _switch(env: dict[str, str], key: str, default: bool) -> bool:
    raw = env.get(key, "").strip().lower()
    if not raw:
        return default
    if raw in ("on", "true", "1", "yes"):
        return True
    if raw in ("off", "false", "0", "no"):
        return False
    raise ConfigError(f"{key} must be on or off, not {raw!r}")


def _webhook_url(raw: str | None) -> str | None:
    if raw and not re.match(r"(?i)^https://[^/\s]+", raw):
        raise ConfigError(
            f"NEWSBOT_WEBHOOK_URL must be the public https:// address (Telegram sends webhooks "
            f"over HTTPS only), not {raw!r}"
        )
    return raw


def _webhook_secret(raw: str | None) -> str | None:
    if raw and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", raw):
        raise ConfigError(  # never echo the secret itself
            "NEWSBOT_WEBHOOK_SECRET must be 1–256 characters of A-Z, a-z, 0-9, _ and - "
            "(what Telegram allows); e.g. `openssl rand -hex 32`"
        )
    return raw


def default_state_dir(env: dict[str, str]) -> Path:
    """The question log's default folder: $XDG_STATE_HOME/newsbot, else ~/.local/state/newsbot."""
    base = env.get("XDG_STATE_HOME", "").strip()
    return Path(base) / "newsbot" if base else Path.home() / ".local" / "state" / "newsbot"


def load_settings(
    environ: dict[str, str] | None = None, dotenv: Path | None = Path(".env")
) -> Settings:
    """Read the settings: `.env` first, the real environment on top."""
    env = dict(read_dotenv(dotenv)) if dotenv else {}
    env.update(os.environ if environ is None else environ)
    get = lambda key: env.get(key, "").strip() or None  # noqa: E731
    index_dir, vectors_dir = get("NEWSBOT_INDEX_DIR"), get("NEWSBOT_VECTORS_DIR")
    return Settings(
        token=get("TELEGRAM_BOT_TOKEN"),
        base_url=get("TELEGRAM_BASE_URL") or DEFAULT_BASE_URL,
        knowledge_dir=Path(get("NEWSBOT_KNOWLEDGE_DIR") or "knowledge"),
        index_dir=Path(index_dir) if index_dir else None,
        vectors_dir=Path(vectors_dir) if vectors_dir else None,
        dictionary=Path(get("NEWSBOT_DICTIONARY") or DEFAULT_DICTIONARY),
        thesaurus=Path(get("NEWSBOT_THESAURUS") or DEFAULT_THESAURUS),
        cache_dir=Path(get("NEWSBOT_CACHE_DIR") or Path.home() / ".cache" / "newsbot"),
        log_level=(get("NEWSBOT_LOG_LEVEL") or "").upper() or None,
        semantic=_switch(env, "NEWSBOT_SEMANTIC", True),
        admin_ids=_ids(env.get("NEWSBOT_ADMIN_IDS", "")),
        webhook_url=_webhook_url(get("NEWSBOT_WEBHOOK_URL")),
        webhook_listen=get("NEWSBOT_WEBHOOK_LISTEN") or "0.0.0.0",
        webhook_port=_port(env),
        webhook_secret=_webhook_secret(get("NEWSBOT_WEBHOOK_SECRET")),
        webhook_path=(get("NEWSBOT_WEBHOOK_PATH") or "telegram").strip("/"),
        flood_limit=_positive(env, "NEWSBOT_FLOOD_LIMIT", 12),
        flood_window=_number(env, "NEWSBOT_FLOOD_WINDOW", 10.0),
        max_question_chars=_positive(env, "NEWSBOT_MAX_QUESTION_CHARS", 500),
        feeds=_feeds(env.get("NEWSBOT_FEEDS", "")),
        feed_interval=_feed_interval(env),
        state_dir=Path(get("NEWSBOT_STATE_DIR") or default_state_dir(env)),
        question_log=_switch(env, "NEWSBOT_QUESTION_LOG", True),
        log_days=_positive(env, "NEWSBOT_LOG_DAYS", 30),
    )
