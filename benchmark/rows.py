"""Run on a benchmark host as the web server's user: count or set the stored rows.

python3 - count       < rows.py
python3 - set 1000    < rows.py   (keeps the newest rows, adds seed rows up to the number)
"""

import os
import sqlite3
import sys

DB = "/var/lib/apache-cgi-kit/kit.sqlite3"
MOODS = ("delighted", "happy", "neutral", "sad", "angry")


def count(connection: sqlite3.Connection) -> int:
    return connection.execute("SELECT count(*) FROM feedback").fetchone()[0]


def set_rows(connection: sqlite3.Connection, rows: int) -> None:
    connection.execute(
        "DELETE FROM feedback WHERE id NOT IN (SELECT id FROM feedback ORDER BY id DESC LIMIT ?)",
        (rows,),
    )
    missing = rows - count(connection)
    connection.executemany(
        "INSERT INTO feedback (name, mood, message) VALUES (?, ?, ?)",
        [(f"Seed {n}", MOODS[n % len(MOODS)], "A row for the dashboard.") for n in range(missing)],
    )
    connection.commit()


if __name__ == "__main__":
    if not os.path.exists(DB):  # no submission yet: the scripts create it
        print(0)
    else:
        database = sqlite3.connect(DB)
        if sys.argv[1] == "set":
            set_rows(database, int(sys.argv[2]))
        print(count(database))
