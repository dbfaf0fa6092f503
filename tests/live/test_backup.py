"""Backups of the sites' databases on every host under test (systemd): the timer, a copy
made while a load generator writes (consistent, every row committed before it, root's
alone), a copy of one host restored into another (the same rows, the site serving), a
file that is no kit database refused, and old copies pruned."""

from __future__ import annotations

import base64
import json
import random

import pytest
import testinfra
from kit import DATA_DIR, DB, HTTPS_PORT, PROBE_SOURCE, SETTINGS, all_rows, stored, trusted_ca

TOOL = "/usr/local/sbin/apache-cgi-kit-backup"
BACKUPS = str(SETTINGS["apache_cgi_backup_dir"])
TIMER = "apache-cgi-kit-backup.timer"
# POSTs of feedback over HTTPS from inside the host, each from one of several loopback
# addresses (the limit per client counts 30 a minute), trusting the CA clients trust.
# Arguments: the probe's code, the number of POSTs, the addresses' second byte, the
# HTTPS port, the CA's PEM.
LOADER = """
import json, sys, time
probe = {}
exec(sys.argv[1], probe)
ca = sys.argv[5]
for number in range(int(sys.argv[2])):
    reply = probe["exchange"](int(sys.argv[4]), "POST", "/cgi-bin/feedback.py",
        f"name=backup-load-{number}&mood=happy&message=load",
        {"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin"},
        certificate=ca, source=f"127.{sys.argv[3]}.3.{number % 8 + 1}")
    print(reply["status"], flush=True)
"""


PINNING_READER = """
import sqlite3, sys, time
# kit-pinning-reader
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN")
connection.execute("SELECT count(*) FROM feedback").fetchone()
time.sleep(300)
"""


@pytest.fixture(scope="module")
def hosts(pytestconfig) -> list:
    return [testinfra.get_host(spec) for spec in pytestconfig.getoption("hosts").split(",")]


def site_of(host) -> str:
    """The single site's name: the host's inventory name (apache_server_name)."""
    return host.backend.get_hostname()


def copies(host) -> list[str]:
    return host.check_output(f"{TOOL} list").split()


def rows_in(host, database: str, extra: str = "", columns: str = "*") -> list:
    """The feedback rows of a database file on the host (read-only; ``extra``: URI options)."""
    code = (
        "import json, sqlite3, sys; c = sqlite3.connect(sys.argv[1], uri=True); "
        "print(json.dumps(c.execute(sys.argv[2]).fetchall()))"
    )
    uri = f"file:{database}?mode=ro{extra}"
    query = f"SELECT {columns} FROM feedback ORDER BY id"
    return json.loads(host.check_output("python3 -c %s %s %s", code, uri, query))


def ids_in(host, database: str, extra: str = "") -> list[int]:
    return [row[0] for row in rows_in(host, database, extra, "id")]


def put_file(host, path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` on the host, in pieces a command line can carry."""
    encoded = base64.b64encode(data).decode()
    host.run_expect([0], "rm -f %s.b64", path)
    for start in range(0, len(encoded), 60000):
        host.run_expect([0], "printf %s %s >> %s.b64", "%s", encoded[start : start + 60000], path)
    host.run_expect([0], "base64 -d %s.b64 > %s && rm %s.b64", path, path, path)


def systemd(host) -> bool:
    return host.file("/run/systemd/system").is_directory


def run_backup(host) -> None:
    """A backup now: the timer's service where systemd runs the host, else the tool."""
    if systemd(host):
        host.run_expect([0], "systemctl start apache-cgi-kit-backup.service")
    else:
        host.run_expect([0], f"{TOOL} backup")


def wait_for(host, condition: str, seconds: int = 180) -> None:
    """Until the shell condition holds on the host, checked every tenth of a second."""
    loop = f"for i in $(seq {seconds * 10}); do if {condition}; then exit 0; fi; sleep 0.1; done"
    host.run_expect([0], "sh -c %s", loop + "; exit 1")


@pytest.fixture(scope="module")
def under_load(hosts):
    """Per host: the ids committed before a backup started while 200 POSTs went on,
    the copy it made, and the POSTs' statuses."""
    made = {}
    for host in hosts:
        host.run_expect([0], "rm -f /tmp/kit-load.out")
        # A reader that keeps a snapshot open, as a dashboard request does: SQLite can't
        # fold the WAL into the database file meanwhile, so the rows committed after
        # are in the WAL alone (a copy of the file would miss them).
        host.run_expect(
            [0],
            f"nohup runuser -u www-data -- python3 -c %s {DB} > /dev/null 2>&1 &",
            PINNING_READER,
        )
        host.run_expect(
            [0],
            "nohup python3 -c %s %s 200 %s %s %s > /tmp/kit-load.out 2>&1 &",
            LOADER,
            PROBE_SOURCE,
            str(random.randint(10, 250)),  # addresses no earlier run used
            str(HTTPS_PORT),
            trusted_ca(host),
        )
        wait_for(host, "[ -s /tmp/kit-load.out ]")
        before = ids_in(host, DB)
        run_backup(host)
        wait_for(host, "[ $(wc -l < /tmp/kit-load.out) -ge 200 ]")
        statuses = host.check_output("cat /tmp/kit-load.out").split()
        host.run("pkill -f kit-pinning-reader")
        made[host] = (before, copies(host)[-1], statuses)
    return made


def test_the_timer_is_enabled_and_waiting(hosts):
    for host in hosts:
        if not systemd(host):
            pytest.skip("systemd does not run this host: no timer (the play says to use cron)")
        assert host.check_output(f"systemctl is-enabled {TIMER}") == "enabled"
        assert host.check_output(f"systemctl is-active {TIMER}") == "active"
        normalized = host.check_output(
            "systemd-analyze calendar %s | sed -n 's/^ *Normalized form: //p'",
            str(SETTINGS["apache_cgi_backup_schedule"]),
        )
        schedule = host.check_output(f"systemctl show -p TimersCalendar --value {TIMER}")
        assert f"OnCalendar={normalized} ;" in schedule


def test_a_copy_under_load_holds_every_row_committed_before_it(hosts, under_load):
    for host in hosts:
        before, copy, statuses = under_load[host]
        assert statuses.count("303") == 200, statuses
        assert copy.startswith(f"{BACKUPS}/{site_of(host)}/{site_of(host)}-")
        kept = ids_in(host, copy, "&immutable=1")
        assert set(before) <= set(kept)
        assert set(kept) <= set(ids_in(host, DB))
        check = host.check_output(
            "python3 -c %s %s",
            "import sqlite3, sys; print(sqlite3.connect(sys.argv[1], uri=True)"
            ".execute('PRAGMA integrity_check').fetchone()[0])",
            f"file:{copy}?mode=ro&immutable=1",
        )
        assert check == "ok"


def test_copies_are_roots_alone_and_the_database_stays_the_web_users(hosts, under_load):
    for host in hosts:
        copy = under_load[host][1]
        for path, mode in [(BACKUPS, 0o700), (copy.rsplit("/", 1)[0], 0o700), (copy, 0o600)]:
            found = host.file(path)
            assert (found.user, found.group, found.mode) == ("root", "root", mode), path
        owners = host.check_output(f"stat -c %U {DATA_DIR}/*").split()
        assert set(owners) == {"www-data"}


def test_a_copy_restored_into_another_host_gives_the_same_rows(hosts, under_load):
    # With one host (no-systemd), its own copy, made while rows kept coming.
    source, target = hosts[0], hosts[-1]
    copy = under_load[source][1]
    wanted = rows_in(source, copy, "&immutable=1")
    own = under_load[target][1]  # the target's own copy, put back at the end
    own_rows = rows_in(target, own, "&immutable=1")
    put_file(target, "/tmp/kit-restore.sqlite3", source.file(copy).content)
    try:
        result = target.run(f"{TOOL} restore %s /tmp/kit-restore.sqlite3", site_of(target))
        assert result.rc == 0, result.stderr
        assert f"now holds the {len(wanted)} rows" in result.stdout
        assert all_rows(target) == wanted
        assert target.file(DB).mode == 0o600
        assert target.file(DB).user == "www-data"
    finally:
        back = target.run(f"{TOOL} restore %s %s", site_of(target), own)
        target.run("rm -f /tmp/kit-restore.sqlite3")
    assert back.rc == 0, back.stderr
    assert all_rows(target) == own_rows


def test_a_file_that_is_no_kit_database_is_refused_and_changes_nothing(hosts):
    host = hosts[0]
    before = stored(host)
    host.run_expect([0], "echo 'not a database' > /tmp/kit-not-a-db.sqlite3")
    result = host.run(f"{TOOL} restore %s /tmp/kit-not-a-db.sqlite3", site_of(host))
    host.run("rm -f /tmp/kit-not-a-db.sqlite3")
    assert result.rc == 1
    assert "is no copy of a kit database" in result.stderr
    assert stored(host) == before


def test_copies_older_than_the_days_kept_go_and_the_newest_stays(hosts, under_load):
    host = hosts[0]
    folder = f"{BACKUPS}/{site_of(host)}"
    old = f"{folder}/{site_of(host)}-20000101T000000Z.sqlite3"
    host.run_expect([0], f"cp {under_load[host][1]} {old} && touch -d '2000-01-01' {old}")
    run_backup(host)
    assert not host.file(old).exists
    assert len(copies(host)) >= 2
