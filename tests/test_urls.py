"""Database URLs: which backend they name, and that passwords never reach a log line."""

from __future__ import annotations

import pytest

from storage.urls import is_postgres_url, redact


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://bot:s3cret@db:5432/paperbot", "postgresql://bot:***@db:5432/paperbot"),
        ("postgres://bot:p%40ss@db/paperbot", "postgres://bot:***@db/paperbot"),
        (
            "postgresql://bot@db/paperbot?password=s3cret",
            "postgresql://bot@db/paperbot?password=***",
        ),
        (
            "postgresql://bot@db/paperbot?sslmode=disable&Password=s3cret&x=1",
            "postgresql://bot@db/paperbot?sslmode=disable&Password=***&x=1",
        ),
        ("postgresql://db/paperbot", "postgresql://db/paperbot"),
        ("data/paperbot.db", "data/paperbot.db"),
        ("sqlite:///data/paperbot.db", "sqlite:///data/paperbot.db"),
    ],
)
def test_redact_hides_every_form_of_password(url: str, shown: str) -> None:
    assert redact(url) == shown
    assert "s3cret" not in redact(url) and "p%40ss" not in redact(url)


def test_backend_is_told_by_scheme_only() -> None:
    assert is_postgres_url("postgresql://h/db") and is_postgres_url(" postgres://h/db")
    assert not is_postgres_url("sqlite:///x.db") and not is_postgres_url("postgresql.db")


def test_passwords_are_masked_anywhere_in_an_error_or_a_traceback() -> None:
    from storage.urls import redact_text

    text = (
        "cannot connect postgresql://bot:pa55@db.example:5432/papers, retrying "
        "postgres://bot@db.example/papers?sslmode=require&password=pa55 in 5 s; "
        "GET http://127.0.0.1:9/api/v10/users/@me failed with token abc.def"
    )
    assert redact_text(text, "abc.def") == (
        "cannot connect postgresql://bot:***@db.example:5432/papers, retrying "
        "postgres://bot@db.example/papers?sslmode=require&password=*** in 5 s; "
        "GET http://127.0.0.1:9/api/v10/users/@me failed with token ***"
    )
