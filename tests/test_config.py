"""bot.config: settings from the environment and `.env`."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import DEFAULT_BASE_URL, Settings, load_settings, read_dotenv
from bot.errors import ConfigError

TOKEN = "123456789:AAHfakeFAKEfakeFAKEfakeFAKEfake1234"  # well-formed, fake


def _dotenv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / ".env"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("line", "key", "value"),
    [
        ("A=1", "A", "1"),
        ("A = 1", "A", "1"),
        ("export A=1", "A", "1"),
        ('A="in quotes"', "A", "in quotes"),
        ("A='single # not a comment'", "A", "single # not a comment"),
        ("A=value # a comment", "A", "value"),
        ("A=x=y", "A", "x=y"),
        ("A=", "A", ""),
        ("A=pass#word", "A", "pass#word"),
    ],
)
def test_dotenv_lines(tmp_path, line, key, value):
    assert read_dotenv(_dotenv(tmp_path, line + "\n")) == {key: value}


def test_dotenv_skips_comments_blank_and_junk(tmp_path):
    text = "# a comment\n\n   # indented comment\nNOT A SETTING\nB=2\n"
    assert read_dotenv(_dotenv(tmp_path, text)) == {"B": "2"}


def test_missing_dotenv_is_empty(tmp_path):
    assert read_dotenv(tmp_path / "nope.env") == {}


def test_dotenv_directory_is_empty(tmp_path):
    (tmp_path / "dir.env").mkdir()
    assert read_dotenv(tmp_path / "dir.env") == {}


def test_non_utf8_dotenv_is_a_config_error(tmp_path):
    path = tmp_path / ".env"
    path.write_bytes(b"A=\xff\xfe\n")
    with pytest.raises(ConfigError, match=".env"):
        read_dotenv(path)


def test_defaults_without_anything(tmp_path):
    settings = load_settings({}, dotenv=None)
    assert settings.token is None
    assert settings.base_url == DEFAULT_BASE_URL
    assert settings.knowledge_dir == Path("knowledge")
    assert settings.saved_index_dir == Path("knowledge/.newsbot")
    assert settings.admin_ids == frozenset()
    assert settings.flood_limit == 12


def test_dotenv_is_read(tmp_path):
    path = _dotenv(tmp_path, f"TELEGRAM_BOT_TOKEN={TOKEN}\nNEWSBOT_KNOWLEDGE_DIR=news\n")
    settings = load_settings({}, dotenv=path)
    assert settings.token == TOKEN
    assert settings.knowledge_dir == Path("news")


def test_environment_wins_over_dotenv(tmp_path):
    path = _dotenv(tmp_path, "NEWSBOT_KNOWLEDGE_DIR=from-dotenv\nNEWSBOT_LOG_LEVEL=debug\n")
    settings = load_settings({"NEWSBOT_KNOWLEDGE_DIR": "from-env"}, dotenv=path)
    assert settings.knowledge_dir == Path("from-env")
    assert settings.log_level == "DEBUG"


def test_default_dotenv_is_in_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("NEWSBOT_KNOWLEDGE_DIR=cwd-news\n")
    monkeypatch.chdir(tmp_path)
    assert load_settings().knowledge_dir == Path("cwd-news")


def test_real_environment_is_used_by_default(monkeypatch):
    monkeypatch.setenv("NEWSBOT_FLOOD_LIMIT", "3")
    assert load_settings().flood_limit == 3


def test_blank_values_mean_default():
    settings = load_settings({"NEWSBOT_KNOWLEDGE_DIR": "  ", "NEWSBOT_WEBHOOK_PORT": ""}, None)
    assert settings.knowledge_dir == Path("knowledge")
    assert settings.webhook_port == 8443


def test_index_dir_setting():
    settings = load_settings({"NEWSBOT_INDEX_DIR": "/tmp/idx"}, None)
    assert settings.saved_index_dir == Path("/tmp/idx")


def test_webhook_path_is_stripped_of_slashes():
    assert load_settings({"NEWSBOT_WEBHOOK_PATH": "/hook/"}, None).webhook_path == "hook"


@pytest.mark.parametrize("raw", ["1,2,3", "1 2 3", " 1, 2 ,3 ", "1,,2,3,"])
def test_admin_ids(raw):
    expected = {1, 2, 3} if "3" in raw else {1, 2}
    assert load_settings({"NEWSBOT_ADMIN_IDS": raw}, None).admin_ids == frozenset(expected)


@pytest.mark.parametrize("raw", ["alice", "1,bob", "1;2", "@admin"])
def test_bad_admin_ids(raw):
    with pytest.raises(ConfigError, match="NEWSBOT_ADMIN_IDS"):
        load_settings({"NEWSBOT_ADMIN_IDS": raw}, None)


@pytest.mark.parametrize("key", ["NEWSBOT_WEBHOOK_PORT", "NEWSBOT_FLOOD_LIMIT"])
def test_bad_numbers(key):
    with pytest.raises(ConfigError, match=key):
        load_settings({key: "many"}, None)


def test_require_token_returns_a_good_token():
    assert load_settings({"TELEGRAM_BOT_TOKEN": TOKEN}, None).require_token() == TOKEN


def test_missing_token_is_a_config_error():
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN is not set"):
        load_settings({}, None).require_token()


@pytest.mark.parametrize(
    "token",
    ["abc", "123:short", "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0", f"{TOKEN} extra", "bot" + TOKEN],
)
def test_malformed_token_is_a_config_error(token):
    with pytest.raises(ConfigError, match="malformed"):
        Settings(token=token).require_token()


def test_malformed_token_message_does_not_echo_the_token():
    token = "123456:not-long-enough-secret"
    with pytest.raises(ConfigError) as info:
        Settings(token=token).require_token()
    assert token not in str(info.value)


def test_repr_never_shows_the_token_or_webhook_secret():
    settings = load_settings(
        {"TELEGRAM_BOT_TOKEN": TOKEN, "NEWSBOT_WEBHOOK_SECRET": "s3cret-webhook-value"}, None
    )
    assert TOKEN not in repr(settings)
    assert "s3cret-webhook-value" not in repr(settings)
    assert TOKEN not in str(settings)


def test_token_from_dotenv_with_quotes_and_export(tmp_path):
    path = _dotenv(tmp_path, f'export TELEGRAM_BOT_TOKEN="{TOKEN}"  \n')
    assert load_settings({}, dotenv=path).require_token() == TOKEN


def test_dotenv_quoted_value_with_trailing_comment(tmp_path):
    path = _dotenv(tmp_path, f'TELEGRAM_BOT_TOKEN="{TOKEN}"  # from @BotFather\n')
    assert read_dotenv(path) == {"TELEGRAM_BOT_TOKEN": TOKEN}


def test_dotenv_with_byte_order_mark(tmp_path):
    path = tmp_path / ".env"
    path.write_bytes(f"\ufeffTELEGRAM_BOT_TOKEN={TOKEN}\n".encode())
    assert read_dotenv(path) == {"TELEGRAM_BOT_TOKEN": TOKEN}


@pytest.mark.parametrize("port", ["70000", "0", "-1"])
def test_webhook_port_out_of_range(port):
    with pytest.raises(ConfigError, match="NEWSBOT_WEBHOOK_PORT"):
        load_settings({"NEWSBOT_WEBHOOK_PORT": port}, None)


def test_flood_window_accepts_fractions():
    assert load_settings({"NEWSBOT_FLOOD_WINDOW": "2.5"}, None).flood_window == 2.5


def test_env_example_loads_as_the_defaults():
    example = Path(__file__).resolve().parents[1] / ".env.example"
    settings = load_settings({}, dotenv=example)
    assert settings.token is None
    assert settings.index_dir is None
    assert settings.knowledge_dir == Path("knowledge")
    assert settings.admin_ids == frozenset()
    assert (settings.flood_limit, settings.flood_window) == (12, 10.0)
    assert settings.webhook_port == 8443
    with pytest.raises(ConfigError, match="not set"):
        settings.require_token()


def test_question_log_settings():
    default = load_settings({}, None)
    assert default.state_dir == Path.home() / ".local" / "state" / "newsbot"
    assert (default.question_log, default.log_days) == (True, 30)
    assert load_settings({"XDG_STATE_HOME": "/var/x"}, None).state_dir == Path("/var/x/newsbot")
    settings = load_settings({"NEWSBOT_STATE_DIR": "/srv/s", "NEWSBOT_QUESTION_LOG": "off",
                              "NEWSBOT_LOG_DAYS": "7", "XDG_STATE_HOME": "/var/x"}, None)
    assert (settings.state_dir, settings.question_log, settings.log_days) == (
        Path("/srv/s"), False, 7)


@pytest.mark.parametrize(("key", "raw"), [("NEWSBOT_LOG_DAYS", "0"),
                                          ("NEWSBOT_LOG_DAYS", "week"),
                                          ("NEWSBOT_QUESTION_LOG", "maybe")])
def test_bad_question_log_settings(key, raw):
    with pytest.raises(ConfigError, match=key):
        load_settings({key: raw}, None)
