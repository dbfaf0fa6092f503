"""SQLite storage for the feedback scripts: schema by version, short transactions.

The database lives in a directory only the web server's user can enter.  WAL
mode lets the dashboard read while a submission writes; the busy timeout
makes concurrent submissions wait for each other instead of failing.  Every
statement is parameterized.
"""

from __future__ import annotations

import os
import sqlite3

DEFAULT_DB = "/var/lib/apache-cgi-kit/kit.sqlite3"
DEFAULT_BUSY_MS = 5000
MOODS = ("delighted", "happy", "neutral", "sad", "angry")

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
)


class StorageError(Exception):
    """The database can't be reached or written: the page should say 503."""


def database_path() -> str:
    """The database file, as the server configuration sets it (``SetEnv CGIKIT_DB``)."""
    return os.environ.get("CGIKIT_DB", DEFAULT_DB)


def busy_timeout_ms() -> int:
    value = os.environ.get("CGIKIT_BUSY_MS", "")
    return int(value) if value.isdigit() else DEFAULT_BUSY_MS


def connect(path: str | None = None) -> sqlite3.Connection:
    """Open the database, creating or migrating its schema when needed."""
    try:
        connection = sqlite3.connect(
            path or database_path(), timeout=busy_timeout_ms() / 1000, isolation_level=None
        )
        connection.execute("PRAGMA journal_mode=WAL")
        if connection.execute("PRAGMA user_version").fetchone()[0] < len(MIGRATIONS):
            migrate(connection)
    except sqlite3.Error as error:
        raise StorageError(str(error)) from error
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


def add_feedback(name: str, mood: str, message: str) -> int:
    """Store one submission; return its id."""
    try:
        connection = connect()
        try:  # one statement in autocommit mode: stored whole or not at all
            cursor = connection.execute(
                "INSERT INTO feedback (name, mood, message) VALUES (?, ?, ?)",
                (name, mood, message),
            )
            return int(cursor.lastrowid)
        finally:
            connection.close()
    except sqlite3.Error as error:
        raise StorageError(str(error)) from error


def feedback_page(limit: int, offset: int) -> tuple[list[tuple], int, dict[str, int]]:
    """One page of submissions, newest first, with the total and the count per mood."""
    try:
        connection = connect()
        try:
            connection.execute("BEGIN")  # one snapshot for the three queries
            rows = connection.execute(
                "SELECT id, created, name, mood, message FROM feedback"
                " ORDER BY id DESC LIMIT ? OFFSET ?",
                (limit, offset),
            ).fetchall()
            counts = dict(connection.execute("SELECT mood, count(*) FROM feedback GROUP BY mood"))
            connection.execute("COMMIT")
        finally:
            connection.close()
    except sqlite3.Error as error:
        raise StorageError(str(error)) from error
    return rows, sum(counts.values()), counts


def check_writable() -> None:
    """Prove the database can be written: take the write lock, then let go."""
    try:
        connection = connect()
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("ROLLBACK")
        finally:
            connection.close()
    except sqlite3.Error as error:
        raise StorageError(str(error)) from error
