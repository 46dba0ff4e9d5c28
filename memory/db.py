"""The store's database: a SQLite file by default, any SQLAlchemy URL by configuration.

SQLite runs in WAL mode with full sync: a process killed in the middle of a write leaves
the last committed state, readable. Several processes may share the file (a busy
writer is waited for). A URL that cannot be opened is an ``InputError`` naming it.
"""

from __future__ import annotations

import time
from functools import lru_cache
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlmodel import SQLModel, create_engine

from muie.errors import InputError
from muie.memory import tables  # noqa: F401  (registers the tables)
from muie.settings import Settings, data_dir

STORE_FILE = "muie.db"
BUSY_TIMEOUT_MS = 30_000
CREATE_ATTEMPTS = 5


def store_url(settings: Settings) -> str:
    return settings.store_url or f"sqlite:///{data_dir(settings) / STORE_FILE}"


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.close()


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """One engine per URL and process, its tables created when missing."""
    what = f"store {_safe(url)}"
    try:
        parsed = make_url(url)
    except ArgumentError as e:
        raise InputError(what, f"is not a database URL ({e})") from None
    sqlite = parsed.get_backend_name() == "sqlite"
    if sqlite and parsed.database and parsed.database != ":memory:":
        folder = Path(parsed.database).expanduser().parent
        if not folder.is_dir():
            raise InputError(what, f"folder {folder} does not exist")
    args = {"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000} if sqlite else {}
    try:
        engine = create_engine(url, connect_args=args, pool_pre_ping=not sqlite)
    except ImportError as e:
        postgres = parsed.get_backend_name() == "postgresql"
        extra = " (the postgres extra: pip install 'muie[postgres]')" if postgres else ""
        raise InputError(what, f"needs a database driver that is not installed{extra}: {e}") from None
    except ArgumentError as e:
        raise InputError(what, f"cannot be opened ({e})") from None
    if sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
    for attempt in range(CREATE_ATTEMPTS):
        try:
            SQLModel.metadata.create_all(engine)
            break
        except SQLAlchemyError as e:
            if _raced(e) and attempt + 1 < CREATE_ATTEMPTS:
                time.sleep(0.05 * (attempt + 1))  # another process made the tables meanwhile: look again
                continue
            if isinstance(e, OperationalError):
                raise InputError(what, f"cannot be opened ({str(e.orig).strip() or e})") from None
            raise InputError(what, f"cannot be used ({e})") from None
    return engine


def _raced(e: SQLAlchemyError) -> bool:
    """Whether creating the tables failed because another process created them first."""
    text = str(getattr(e, "orig", e)).lower()
    return "already exists" in text or "duplicate key" in text or "database is locked" in text


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url
