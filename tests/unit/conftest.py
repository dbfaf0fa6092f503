"""Each unit test gets a database of its own in a temporary directory."""

from __future__ import annotations

import sqlite3

import cgirun
import pytest


@pytest.fixture(autouse=True)
def database(tmp_path, monkeypatch):
    """The path the scripts store in during this test (created by the scripts)."""
    path = tmp_path / "data" / "kit.sqlite3"
    path.parent.mkdir(mode=0o700)
    monkeypatch.setattr(cgirun, "DB_PATH", path)
    return path


@pytest.fixture
def rows(database):
    """Read what is stored, as a user of the database would see it."""

    def read() -> list[tuple]:
        if not database.exists():
            return []
        with sqlite3.connect(database) as connection:
            return connection.execute(
                "SELECT name, mood, message FROM feedback ORDER BY id"
            ).fetchall()

    return read
