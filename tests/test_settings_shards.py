"""SHARD_COUNT, SHARD_IDS, CLAIM_TIMEOUT_SECONDS and DATABASE_URL: parsed, defaulted and
refused with one clear line each."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.cli.settings import Settings, SettingsError
from bot.discord_app.client import PaperBot, ShardedPaperBot
from bot.discord_app.wiring import make_bot
from storage.urls import redact

PG = "postgresql://paperbot:s3cret@db.example:5432/paperbot"


def load(**env: str) -> Settings:
    return Settings.load(env_file=None, environ=env)


def test_unsharded_by_default() -> None:
    settings = load()
    assert (settings.shard_count, settings.shard_ids, settings.sharded) == (None, (), False)
    assert settings.claim_timeout == dt.timedelta(seconds=120)
    assert settings.db == "data/paperbot.db"
    assert settings.owns_guild(123 << 22)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("", (0, 1, 2, 3)), ("0,1", (0, 1)), ("2-3", (2, 3)), (" 3, 0-1 ,1", (0, 1, 3))],
)
def test_shard_ids_lists_and_ranges(raw: str, expected: tuple[int, ...]) -> None:
    settings = load(SHARD_COUNT="4", SHARD_IDS=raw, DATABASE_URL=PG)
    assert (settings.shard_count, settings.shard_ids) == (4, expected)
    assert settings.sharded


def test_owns_only_guilds_on_its_shards() -> None:
    settings = load(SHARD_COUNT="4", SHARD_IDS="0,1", DATABASE_URL=PG)
    assert [settings.owns_guild(n << 22) for n in range(8)] == [True, True, False, False] * 2
    assert settings.owns_guild(None)  # DMs: any process


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SHARD_COUNT": "4", "SHARD_IDS": "0,4", "DATABASE_URL": PG}, "out of range"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "x", "DATABASE_URL": PG}, "ranges like 0-1"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "3-1", "DATABASE_URL": PG}, "backwards"),
        ({"SHARD_COUNT": "0"}, "at least 1"),
        ({"SHARD_COUNT": "two"}, "whole number"),
        ({"SHARD_IDS": "0"}, "needs SHARD_COUNT"),
        ({"CLAIM_TIMEOUT_SECONDS": "4"}, "at least 5"),
        ({"DATABASE_URL": "mysql://x/y"}, "postgresql://"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "0-1"}, "DATABASE_URL=postgresql://"),
        (
            {"SHARD_COUNT": "2", "SHARD_IDS": "1", "DATABASE_URL": "sqlite:///x.db"},
            "shared database",
        ),
    ],
)
def test_bad_values_are_refused_in_one_line(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message) as caught:
        load(**env)
    assert "\n" not in str(caught.value)


def test_one_process_running_every_shard_may_use_sqlite() -> None:
    settings = load(SHARD_COUNT="2", PAPERBOT_DB="x.db")
    assert (settings.shard_ids, settings.db) == ((0, 1), "x.db")


def test_database_url_wins_over_paperbot_db() -> None:
    assert load(DATABASE_URL=PG, PAPERBOT_DB="x.db").db == PG
    assert load(DATABASE_URL="sqlite:///y.db", PAPERBOT_DB="x.db").db == "sqlite:///y.db"
    assert load(CLAIM_TIMEOUT_SECONDS="15").claim_timeout == dt.timedelta(seconds=15)


def test_the_client_is_sharded_only_when_shard_count_is_set() -> None:
    plain = make_bot(settings=load(), storage=None, start_scheduler=False)
    assert type(plain) is PaperBot
    assert plain.services.delivery.owner is None
    settings = load(SHARD_COUNT="4", SHARD_IDS="2-3", DATABASE_URL=PG)
    sharded = make_bot(settings=settings, storage=None, start_scheduler=False)
    assert isinstance(sharded, ShardedPaperBot)
    assert (sharded.shard_count, sharded.shard_ids) == (4, [2, 3])
    assert sharded.services.delivery.owner and sharded.services.delivery.owner.count(":") >= 2
    assert sharded.services.delivery.pacer.rate == pytest.approx(23.5)


def test_the_database_password_never_reaches_the_log() -> None:
    assert redact(PG) == "postgresql://paperbot:***@db.example:5432/paperbot"
    assert redact("data/paperbot.db") == "data/paperbot.db"
