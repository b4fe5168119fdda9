"""Telling database URLs apart, without importing any driver."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
_QUERY_PASSWORD = re.compile(r"([?&]password=)[^&#\s]*", re.IGNORECASE)
# `scheme://user:password@` anywhere in free text (an error message, a traceback).
_URL_PASSWORD = re.compile(r"([a-z][a-z0-9+.-]*://[^:/@\s]*:)[^/@\s]*@", re.IGNORECASE)


def is_postgres_url(url_or_path: str | Path) -> bool:
    return str(url_or_path).strip().startswith(POSTGRES_SCHEMES)


def redact(url: str) -> str:
    """The URL with any password replaced by `***` (for logs, stats and errors): the one
    in `user:password@host` and a `password=` query parameter (libpq and asyncpg accept
    both)."""
    masked = _QUERY_PASSWORD.sub(r"\1***", url)
    try:
        parts = urlsplit(masked)
        password = parts.password
    except ValueError:  # not parseable as a URL: mask anything between `user:` and `@`
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", masked)
    if not password:
        return masked
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def url_password(url: str) -> str | None:
    """The password in a database URL, if any (to mask it wherever it turns up)."""
    try:
        return urlsplit(url).password if "://" in url else None
    except ValueError:
        return None


def redact_text(text: str, *secrets: str) -> str:
    """`text` with every URL password, `password=` parameter and each of `secrets`
    replaced by `***`: for error lines and tracebacks shown to a user."""
    text = _QUERY_PASSWORD.sub(r"\1***", _URL_PASSWORD.sub(r"\1***@", text))
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
