"""Faults: each case tries to break the host, then a live request shows it still serves.

The cases run in this order on one host; each one leaves it as it found it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import HELLO, Watch, apache_configuration
from kit import (
    DB,
    PROJECT,
    SAME_ORIGIN,
    SETTINGS,
    WEB_USER,
    all_rows,
    changed_tasks,
    changes,
    playbook,
    playbook_command,
    playbook_env,
    stored,
)

CGI_TIMEOUT = int(SETTINGS["apache_cgi_timeout"])
BUSY_SECONDS = int(SETTINGS["apache_cgi_busy_timeout_ms"]) / 1000
SERVICE_TASK = "apache : Start Apache and enable it at boot"
HEADER_CHANGE = json.dumps({"apache_security_headers": {"Referrer-Policy": "no-referrer"}})

pytestmark = pytest.mark.usefixtures("serving")


def post_feedback(site, name: str):
    body = f"name={name.replace(' ', '+')}&mood=sad&message=fault+test"
    return site.post_form("/cgi-bin/feedback.py", body, **SAME_ORIGIN)


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


# 1. A variable that renders an invalid Apache directive.


def test_an_invalid_directive_fails_the_play_and_changes_nothing(host):
    before = apache_configuration(host)
    with Watch(host) as watch:
        result = playbook("-e", "apache_request_read_timeout='header=50-40,MinRate=500'")
    assert result.returncode != 0
    # Apache's own message: the kit's checks take the syntax, Apache the values.
    assert "Maximum timeout must be larger than initial timeout" in result.stdout
    assert apache_configuration(host) == before
    assert watch.served_throughout(), watch.explain()


def test_a_file_written_before_a_later_one_is_refused_is_put_back(host, site):
    """Two changes in one run: the server name's file is written, then the header file is
    refused by Apache.  The rescue puts the first file back before the play fails."""
    before = apache_configuration(host)
    bad_header = json.dumps({"apache_security_headers": {"X-Kit-Test": "%{X}z"}})
    with Watch(host) as watch:
        result = playbook("-e", "apache_server_name=renamed.invalid", "-e", bad_header)
    assert result.returncode != 0
    assert "Unrecognized header format %z" in result.stdout  # Apache's own message
    assert "the configuration is back as it was before this run" in result.stdout
    assert "apache : Template the server-wide settings and hardening" in result.stdout
    assert apache_configuration(host) == before
    assert (
        "renamed.invalid"
        not in host.file("/etc/apache2/conf-available/servername.conf").content_string
    )
    assert watch.served_throughout(), watch.explain()
    assert "x-kit-test" not in site.get(HELLO).headers


# 2. Apache stopped or killed.


def test_a_stopped_apache_is_started_by_the_next_converge_and_nothing_else_changes(host):
    before = apache_configuration(host)
    host.run_expect([0], "systemctl stop apache2")
    assert not host.service("apache2").is_running
    result = playbook()
    assert result.returncode == 0, result.stdout[-3000:]
    assert changed_tasks(result) == [SERVICE_TASK]
    assert changes(result) == [("1", "0")]
    assert apache_configuration(host) == before
    assert host.service("apache2").is_running


NO_RESTART = "/run/systemd/system/apache2.service.d/kit-test-no-restart.conf"


def test_a_killed_apache_is_started_by_the_next_converge_and_nothing_else_changes(host):
    """Every Apache process gets SIGKILL: no clean shutdown, a stale PID file.  Debian's
    unit would restart it on its own (Restart=on-abort); for this test it doesn't, so
    that the converge is what brings it back."""
    host.run_expect([0], f"mkdir -p {NO_RESTART.rsplit('/', 1)[0]}")
    host.run_expect([0], f"printf '[Service]\\nRestart=no\\n' > {NO_RESTART}")
    host.run_expect([0], "systemctl daemon-reload")
    before = apache_configuration(host)
    try:
        host.run_expect([0], "pkill --signal KILL --exact apache2")
        assert wait_for(lambda: not host.service("apache2").is_running, 10)
        result = playbook()
    finally:
        host.run_expect([0], f"rm -f {NO_RESTART}")
        host.run_expect([0], "systemctl daemon-reload")
    assert result.returncode == 0, result.stdout[-3000:]
    assert changed_tasks(result) == [SERVICE_TASK]
    assert changes(result) == [("1", "0")]
    assert apache_configuration(host) == before
    assert host.service("apache2").is_running


# 3. A script that hangs.


def test_a_hanging_script_is_killed_by_the_cgi_timeout_while_others_are_served(host, site):
    with ThreadPoolExecutor(max_workers=1) as pool:
        started = time.monotonic()
        hanging = pool.submit(site.get, "/cgi-bin/probe_hang.py")
        time.sleep(1)
        meanwhile = []
        for _ in range(5):  # the site answers while the script hangs
            asked = time.monotonic()
            meanwhile.append((site.get(HELLO).status, time.monotonic() - asked))
        assert not hanging.done()
        reply = hanging.result(timeout=CGI_TIMEOUT + 30)
        waited = time.monotonic() - started
    assert reply.status == 504, reply
    assert "Traceback" not in reply.body
    assert waited < CGI_TIMEOUT + 5
    assert [status for status, _ in meanwhile] == [200] * 5
    assert max(seconds for _, seconds in meanwhile) < 5
    # Apache ended the script itself: no process is left behind.
    for _ in range(20):
        if host.run("pgrep -f probe_hang.py").rc != 0:
            break
        time.sleep(0.5)
    assert host.run("pgrep -f probe_hang.py").rc != 0, "the hanging script still runs"


# 4. The database can't be written.


def integrity(host) -> str:
    code = (
        f"import sqlite3; c = sqlite3.connect('{DB}'); "
        "print(c.execute('PRAGMA integrity_check').fetchone()[0])"
    )
    return host.check_output(f"runuser -u {WEB_USER} -- python3 -c %s", code)


def test_a_read_only_database_is_a_503_then_submissions_work_again(host, site):
    assert post_feedback(site, f"Before {uuid.uuid4().hex[:8]}").status == 303
    earlier = all_rows(host)
    rows = len(earlier)
    mode = host.file(DB).mode
    host.run_expect([0], f"chmod 0400 {DB}")
    try:
        refused = post_feedback(site, f"Refused {uuid.uuid4().hex[:8]}")
        health = site.get("/cgi-bin/health.py")
    finally:
        host.run_expect([0], f"chmod {mode:o} {DB}")
    assert refused.status == 503, refused
    assert "Your feedback could not be saved just now." in refused.body
    assert "Traceback" not in refused.body
    assert health.status == 503
    assert health.body == '{"status": "error", "database": "unavailable"}\n'
    assert stored(host) == rows  # nothing half-written
    name = f"After {uuid.uuid4().hex[:8]}"
    assert post_feedback(site, name).status == 303
    assert stored(host, name) == 1
    assert all_rows(host)[:-1] == earlier  # the earlier rows are all there, as they were
    assert integrity(host) == "ok"
    assert site.get("/cgi-bin/health.py").status == 200


HOLD_LOCK = f"""
import os, sqlite3, time
connection = sqlite3.connect("{DB}", isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
open("/tmp/kit-lock-held", "w").close()
time.sleep(float(os.environ["HOLD_SECONDS"]))
connection.execute("ROLLBACK")
os.remove("/tmp/kit-lock-held")
"""


def test_a_write_lock_held_past_the_busy_timeout_is_a_503_then_submissions_work(host, site):
    assert post_feedback(site, f"Before {uuid.uuid4().hex[:8]}").status == 303
    earlier = all_rows(host)
    rows = len(earlier)
    hold = BUSY_SECONDS + 6
    host.run_expect(
        [0],
        f"HOLD_SECONDS={hold} setsid runuser -u {WEB_USER} -- python3 -c %s"
        " </dev/null >/dev/null 2>&1 &",
        HOLD_LOCK,
    )
    assert wait_for(lambda: host.file("/tmp/kit-lock-held").exists, 10)
    asked = time.monotonic()
    refused = post_feedback(site, f"Locked out {uuid.uuid4().hex[:8]}")
    waited = time.monotonic() - asked
    health = site.get("/cgi-bin/health.py")
    assert refused.status == 503, refused
    assert "Your feedback could not be saved just now." in refused.body
    assert BUSY_SECONDS <= waited < hold  # it waited for the lock, then gave up
    assert health.status == 503
    assert health.body == '{"status": "error", "database": "unavailable"}\n'
    assert wait_for(lambda: not host.file("/tmp/kit-lock-held").exists, hold + 10)
    assert stored(host) == rows
    name = f"After the lock {uuid.uuid4().hex[:8]}"
    assert post_feedback(site, name).status == 303
    assert stored(host, name) == 1
    assert all_rows(host)[:-1] == earlier
    assert integrity(host) == "ok"


# 5. A converge killed half way.


def converge_killed_after(marker: str, *args: str) -> str:
    """Start the playbook and SIGKILL it (and its children) once its output shows ``marker``."""
    process = subprocess.Popen(
        playbook_command(*args),
        cwd=PROJECT,
        env=playbook_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    seen = []
    for line in process.stdout:
        seen.append(line)
        if marker in line:
            os.killpg(process.pid, signal.SIGKILL)
            break
    process.wait()
    process.stdout.close()
    assert process.returncode == -signal.SIGKILL, "".join(seen)[-3000:]
    return "".join(seen)


def test_a_converge_killed_half_way_is_completed_by_the_next(host, site):
    """Killed right after a configuration file was written and before any handler ran: the
    next converge finishes the job, Apache loads the change, and the one after changes nothing."""
    output = converge_killed_after("(item=security)", "-e", HEADER_CHANGE)
    assert "changed: [cgikit-faults] => (item=security)" in output
    assert "RUNNING HANDLER" not in output
    assert site.get(HELLO).headers["referrer-policy"] == "same-origin"  # still the old one
    completed = playbook("-e", HEADER_CHANGE)
    assert completed.returncode == 0, completed.stdout[-3000:]
    assert "apache : Reload Apache" in changed_tasks(completed)
    assert site.get(HELLO).headers["referrer-policy"] == "no-referrer"  # loaded now
    again = playbook("-e", HEADER_CHANGE)
    assert changes(again) == [("0", "0")], again.stdout[-3000:]
    restored = playbook()  # back to the scenario's settings
    assert restored.returncode == 0
    assert site.get(HELLO).headers["referrer-policy"] == "same-origin"


# 6. Check mode, and an edit by hand.


def test_check_mode_shows_an_edit_by_hand_and_a_real_run_puts_the_file_back(host, site):
    conf = "/etc/apache2/conf-available/security.conf"
    original = host.file(conf).sha256sum
    clean = playbook("--check", "--diff")
    assert changes(clean) == [("0", "0")], clean.stdout[-3000:]
    host.run_expect([0], f"echo 'Header always set X-Edited-By-Hand yes' >> {conf}")
    host.run_expect([0], "systemctl reload apache2")
    assert site.get(HELLO).headers["x-edited-by-hand"] == "yes"
    check = playbook("--check", "--diff")
    assert check.returncode == 0, check.stdout[-3000:]
    assert "-Header always set X-Edited-By-Hand yes" in check.stdout  # the diff shows it
    assert "apache : Template the server-wide settings and hardening" in changed_tasks(check)
    assert host.file(conf).sha256sum != original  # check mode changed nothing
    fixed = playbook()
    assert fixed.returncode == 0, fixed.stdout[-3000:]
    assert host.file(conf).sha256sum == original
    assert "x-edited-by-hand" not in site.get(HELLO).headers  # and Apache loaded it
    assert changes(playbook("--check")) == [("0", "0")]
