"""SQLite storage for the feedback scripts: schema by version, short transactions.

The database lives in a directory only the web server's user can enter.  WAL
mode lets the dashboard read while a submission writes; the busy timeout
makes concurrent submissions wait for each other instead of failing.  Every
statement is parameterized.
"""

from __future__ import annotations

import _thread  # loaded by the interpreter already: free (see cgikit)
import posix  # not os: a builtin module, nothing to import (see cgikit)
import sqlite3

from cgikit import ENVIRON, limit_from_env

# Only type checkers need these names (see cgikit for why).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeVar

    T = TypeVar("T")
    #: One stored submission: id, time received (UTC), name, mood, message.
    Row = tuple[int, str, str, str, str]

__all__ = [
    "MIGRATIONS",
    "MOODS",
    "Filter",
    "StorageError",
    "StoreFull",
    "add_feedback",
    "check_writable",
    "connect",
    "database_path",
    "feedback_page",
    "feedback_rows",
    "with_connection",
]

DEFAULT_DB = "/var/lib/apache-cgi-kit/kit.sqlite3"
DEFAULT_BUSY_MS = 5000
MOODS = ("delighted", "happy", "neutral", "sad", "angry")
HEALTH_WRITE_EVERY = 5  # seconds

# Each entry moves the schema one version up; PRAGMA user_version records
# how many have run.  Append only: never edit a migration that has shipped.
MIGRATIONS = (
    """
    CREATE TABLE feedback (
        id INTEGER PRIMARY KEY,
        created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
        name TEXT NOT NULL,
        mood TEXT NOT NULL,
        message TEXT NOT NULL
    )
    """,
    # One row that the health check writes, to prove a write can be committed.
    """
    CREATE TABLE health (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        checked TEXT NOT NULL
    )
    """,
)


class StorageError(Exception):
    """The database can't be reached or written: the page should say 503."""


class StoreFull(StorageError):
    """The store holds as many submissions as the server allows (``CGIKIT_MAX_ROWS``)."""


def database_path() -> str:
    """The database file, as the server configuration sets it (``SetEnv CGIKIT_DB``)."""
    return ENVIRON.get("CGIKIT_DB", DEFAULT_DB)


def connect() -> sqlite3.Connection:
    """Open the database, creating or migrating its schema when needed.

    The database is its owner's alone (0600), whatever umask the server gave the
    process: the files this process creates are, and a database an earlier version
    made readable by others loses the others' bits.  SQLite gives its WAL and shared-memory
    files the database's mode.
    """
    busy_ms = limit_from_env(ENVIRON, "CGIKIT_BUSY_MS", DEFAULT_BUSY_MS)
    posix.umask(0o077)
    path = database_path()
    connection = sqlite3.connect(path, timeout=busy_ms / 1000, isolation_level=None)
    mode = posix.stat(path).st_mode
    if mode & 0o077:  # the owner's bits stay as they are (a read-only database stays so)
        posix.chmod(path, mode & 0o700)
    connection.execute("PRAGMA journal_mode=WAL")
    if connection.execute("PRAGMA user_version").fetchone()[0] < len(MIGRATIONS):
        migrate(connection)
    return connection


def migrate(connection: sqlite3.Connection) -> None:
    """Apply the migrations this database lacks, in one write transaction."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        for number, statement in enumerate(MIGRATIONS[version:], start=version + 1):
            connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {int(number)}")
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


# In a long-lived process (persistent mode) the threads that write queue here,
# in turn, rather than in SQLite's busy handler, whose growing sleeps can let one
# writer wait past the busy timeout while others get through.  Between
# processes, and under CGI (one request a process), the busy timeout still rules.
_WRITE_LOCK = _thread.allocate_lock()


def with_connection(work: Callable[[sqlite3.Connection], T], writes: bool = False) -> T:
    """Run ``work`` on an open connection, then close it; database errors become StorageError.
    With ``writes``, the work runs in this process's turn (see ``_in_turn``); the
    connection is opened before, so that the turn holds only the write itself."""
    try:
        connection = connect()
        try:
            return _in_turn(work, connection) if writes else work(connection)
        finally:
            connection.close()
    except sqlite3.Error as error:
        raise StorageError(str(error)) from error


def _in_turn(work: Callable[[sqlite3.Connection], T], connection: sqlite3.Connection) -> T:
    """``work`` with one thread of this process at a time, each waiting at most the busy
    timeout for its turn, as for SQLite's lock."""
    busy_ms = limit_from_env(ENVIRON, "CGIKIT_BUSY_MS", DEFAULT_BUSY_MS)
    if not _WRITE_LOCK.acquire(True, busy_ms / 1000):
        raise StorageError("another writer of this process held its turn past the busy timeout")
    try:
        return work(connection)
    finally:
        _WRITE_LOCK.release()


def add_feedback(name: str, mood: str, message: str) -> int:
    """Store one submission; return its id."""

    max_rows = limit_from_env(ENVIRON, "CGIKIT_MAX_ROWS", 0)

    def insert(connection: sqlite3.Connection) -> int:
        # One statement in autocommit mode: stored whole or not at all, and the
        # count it checks can't change before the row is in (it holds the write lock).
        if max_rows:
            cursor = connection.execute(
                "INSERT INTO feedback (name, mood, message) SELECT ?, ?, ?"
                " WHERE (SELECT count(*) FROM feedback) < ?",
                (name, mood, message, max_rows),
            )
            if cursor.rowcount == 0:
                raise StoreFull(f"the store holds its {max_rows} submissions")
        else:
            cursor = connection.execute(
                "INSERT INTO feedback (name, mood, message) VALUES (?, ?, ?)",
                (name, mood, message),
            )
        row_id = cursor.lastrowid
        if row_id is None:  # an INSERT always sets it; this says so to the type checker
            raise StorageError("the insert gave no row id")
        return row_id

    return with_connection(insert, writes=True)


class Filter:
    """Which submissions to show: one mood or all, and days (YYYY-MM-DD, UTC) from and to."""

    __slots__ = ("mood", "since", "until")

    def __init__(self, mood: str = "", since: str = "", until: str = "") -> None:
        self.mood = mood
        self.since = since
        self.until = until

    def where(self) -> tuple[str, tuple[str, ...]]:
        """The WHERE clause (parameterized) and its parameters."""
        terms, params = [], []
        if self.mood:
            terms.append("mood = ?")
            params.append(self.mood)
        if self.since:
            terms.append("created >= ?")
            params.append(self.since)
        if self.until:  # the whole day
            terms.append("created < strftime('%Y-%m-%d', ?, '+1 day')")
            params.append(self.until)
        return (" WHERE " + " AND ".join(terms) if terms else ""), tuple(params)


def feedback_page(
    limit: int, offset: int, shown: Filter | None = None
) -> tuple[list[Row], int, dict[str, int], list[tuple[str, str, int]]]:
    """One page of submissions, newest first, with the total, the count per mood and the
    count per day and mood (oldest day first), all of those the filter lets through."""
    where, params = (shown or Filter()).where()

    def read(
        connection: sqlite3.Connection,
    ) -> tuple[list[Row], int, dict[str, int], list[tuple[str, str, int]]]:
        connection.execute("BEGIN")  # one snapshot for every query
        rows = connection.execute(
            "SELECT id, created, name, mood, message FROM feedback"
            + where
            + " ORDER BY id DESC LIMIT ? OFFSET ?",
            (*params, limit, offset),
        ).fetchall()
        by_mood = "SELECT mood, count(*) FROM feedback" + where + " GROUP BY mood"
        counts = dict(connection.execute(by_mood, params))
        days = connection.execute(
            "SELECT substr(created, 1, 10) AS day, mood, count(*) FROM feedback"
            + where
            + " GROUP BY day, mood ORDER BY day",
            params,
        ).fetchall()
        connection.execute("COMMIT")
        return rows, sum(counts.values()), counts, days

    return with_connection(read)


def feedback_rows(shown: Filter | None = None) -> list[Row]:
    """Every submission the filter lets through, oldest first."""
    where, params = (shown or Filter()).where()

    def read(connection: sqlite3.Connection) -> list[Row]:
        return connection.execute(
            "SELECT id, created, name, mood, message FROM feedback" + where + " ORDER BY id",
            params,
        ).fetchall()

    return with_connection(read)


def check_writable() -> None:
    """Prove the database can be written: commit a write, as a submission would.

    Taking the write lock alone is not enough: a read-only file or a full
    disk only show when something is written.  The row changes at most every
    few seconds (HEALTH_WRITE_EVERY), so that a flood of health checks can't
    keep submissions waiting on disk writes; in between, the statement still
    needs a writable database and the write lock.
    """

    def write(connection: sqlite3.Connection) -> None:
        connection.execute(
            "INSERT INTO health (id, checked) VALUES (1, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))"
            " ON CONFLICT (id) DO UPDATE SET checked = excluded.checked"
            " WHERE checked <= strftime('%Y-%m-%dT%H:%M:%SZ', 'now', ?)",
            (f"-{HEALTH_WRITE_EVERY} seconds",),
        )

    with_connection(write, writes=True)
