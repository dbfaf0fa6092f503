"""Persistent mode on a live host (apache_cgi_mode: wsgi): switched on and off by a
converge while a watch requests the site every 0.1 s, a deploy and reloads under load,
and the faults a long-lived process meets: killed, a handler that hangs, 2,000 writers
at once.

The tests run in this order on one host: the first switches it to persistent mode,
the last two are back in CGI (the scenario's own setting)."""

from __future__ import annotations

import json
import subprocess
import threading
import time

import pytest
import yaml
from conftest import HELLO, WINDOW_ANSWERS, Load, Watch, apache_configuration
from kit import (
    PROJECT,
    SCENARIO_SCRIPTS,
    SETTINGS,
    WEB_USER,
    changed_tasks,
    playbook,
    site_processes,
)
from test_concurrency import assert_parallel_posts_are_rows

pytestmark = pytest.mark.usefixtures("serving")

DAEMON = "wsgi:cgi-kit"  # the single site's processes, as ps shows them
TIMEOUT = int(SETTINGS["apache_cgi_timeout"])
PROCESSES = int(SETTINGS["apache_cgi_wsgi_processes"])
RELEASE_TASK = "Mark a new release for the sites in persistent mode whose code changed"
# The configuration before persistent mode, to compare with after switching back.
BEFORE: dict[str, str] = {}


def daemons(host) -> list[tuple[str, int]]:
    """(user, pid) of each of the site's long-lived processes."""
    lines = host.check_output("ps -eo user=,pid=,args=").splitlines()
    return [
        (line.split()[0], int(line.split()[1]))
        for line in lines
        if line.split(None, 2)[2].startswith(DAEMON)
    ]


def switch(host, mode: str) -> Watch:
    """Converge with ``mode`` while the watch requests the hello form; the watch."""
    with Watch(host) as watch:
        result = playbook("-e", json.dumps({"apache_cgi_mode": mode}))
    assert result.returncode == 0, result.stdout[-3000:]
    assert "apache_cgi : Template the server-wide settings of the scripts" in changed_tasks(result)
    answers = set(watch.statuses)
    record(f"switch to {mode}: {len(watch.statuses)} requests in the converge, answers {answers}")
    return watch


def record(line: str) -> None:
    """A figure of this module's, printed and kept in artifacts/persistent-mode.txt."""
    print(line)
    (PROJECT / "artifacts").mkdir(exist_ok=True)
    with (PROJECT / "artifacts" / "persistent-mode.txt").open("a") as report:
        report.write(line + "\n")


def without_the_package(configuration: str) -> str:
    """The configuration's state without the files Debian's mod_wsgi package brings (the
    package stays installed when persistent mode is off; its module is off)."""
    lines = configuration.splitlines()
    return "\n".join(line for line in lines if "mods-available/wsgi." not in line)


def test_switching_to_persistent_mode_refuses_no_request(host):
    BEFORE["configuration"] = apache_configuration(host)
    assert daemons(host) == []
    watch = switch(host, "wsgi")
    assert watch.served_throughout(), watch.explain()
    assert site_processes(host, [DAEMON] * PROCESSES) == [DAEMON] * PROCESSES
    assert {user for user, _pid in daemons(host)} == {WEB_USER}


def deploy(host, new_version: str, watch: Watch | Load) -> subprocess.CompletedProcess:
    """Converge with probe_added.py saying ``new_version`` (the file is put back after)
    under ``watch``; the run, which wrote the site's release mark and reloaded no
    Apache."""
    script = SCENARIO_SCRIPTS / "probe_added.py"
    original = script.read_text()
    script.write_text(original.replace("added script runs", new_version))
    try:
        with watch:
            result = playbook("-e", json.dumps({"apache_cgi_mode": "wsgi"}))
    finally:
        script.write_text(original)
    assert result.returncode == 0, result.stdout[-3000:]
    tasks = changed_tasks(result)
    assert f"apache_cgi : {RELEASE_TASK}" in tasks
    assert not [task for task in tasks if task.endswith(("Reload Apache", "Restart Apache"))], tasks
    return result


def test_a_deploy_replaces_the_processes_and_serves_the_new_code(host, site):
    """The processes keep the code they loaded: a converge that changes a script writes
    the site's release mark, and each process hands its next request over to a fresh
    one, with no Apache reload (whose restart window answers 503).  A request every
    0.1 s: far fewer than would replace a process by itself (maximum-requests)."""
    assert site.get("/cgi-bin/probe_added.py").body == "added script runs: GET\n"
    before = {pid for _user, pid in daemons(host)}
    watch = Watch(host)
    deploy(host, "added script, new version, runs", watch)
    assert watch.served_throughout(), watch.explain()
    for _ in range(4 * PROCESSES):  # each process meets a request, and hands it over
        assert site.get("/cgi-bin/probe_added.py").body == "added script, new version, runs: GET\n"
    assert site_processes(host, [DAEMON] * PROCESSES) == [DAEMON] * PROCESSES
    assert not {pid for _user, pid in daemons(host)} & before


def test_a_deploy_under_load_refuses_no_request(host, site):
    """ab's clients on the host request the hello form as fast as it answers while a
    deploy hands every process's requests over to fresh ones: every answer is the page."""
    load = Load(host)
    deploy(host, "added script, third version, runs", load)
    record(
        f"a deploy under load ({load.clients} clients): {load.requests} requests,"
        f" {load.failed} failed"
    )
    assert load.requests > 100, load.requests
    assert load.failed == 0, (load.failed, load.statuses)
    assert set(load.statuses) == {200}, load.statuses
    assert site.get("/cgi-bin/probe_added.py").body == "added script, third version, runs: GET\n"


def reloads_under_load(host, mode: str, reloads: int = 3) -> None:
    """Reloads Apache under load: the only answers other than the page are those in
    Apache's own restart window, each logged as such; the figures go on record."""
    with Load(host) as load:
        for _ in range(reloads):
            host.run_expect([0], "systemctl reload apache2")
            time.sleep(2)
    unserved = sum(count for status, count in load.statuses.items() if status != 200)
    record(
        f"{reloads} reloads under load in {mode} mode ({load.clients} clients):"
        f" {load.requests} requests; in Apache's restart window:"
        f" {load.statuses.get(503, 0)} answered 503, {load.statuses.get(500, 0)} cut short (500)"
    )
    assert load.requests > 100, load.requests
    assert set(load.statuses) <= {200} | WINDOW_ANSWERS, load.statuses
    assert unserved <= load.restart_window(), (load.statuses, load.restart_window())
    assert load.failed == unserved, (load.failed, load.statuses)


def test_a_reload_under_load_refuses_only_in_apaches_restart_window(host):
    reloads_under_load(host, "wsgi")


def test_a_killed_process_comes_back_and_answers_within_seconds(host, site):
    before = {pid for _user, pid in daemons(host)}
    host.run_expect([0], "pkill -KILL -f '^%s'", DAEMON)
    started = time.monotonic()
    deadline = started + 10
    reply = None
    while time.monotonic() < deadline:
        reply = site.get(HELLO)
        if reply.status == 200:
            break
        time.sleep(0.2)
    seconds = time.monotonic() - started
    record(f"answered again {seconds:.2f} s after SIGKILL of every process")
    assert reply is not None
    assert reply.status == 200, reply
    assert site_processes(host, [DAEMON] * PROCESSES) == [DAEMON] * PROCESSES
    after = {pid for _user, pid in daemons(host)}
    assert not after & before  # new processes, not survivors


def test_a_hanging_handler_is_cut_off_while_others_are_answered(host, site):
    hanging: dict = {}

    def ask() -> None:
        started = time.monotonic()
        hanging["reply"] = site.get("/cgi-bin/probe_hang_handler.py")
        hanging["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=ask)
    thread.start()
    time.sleep(0.5)
    # The handler runs in a thread of the site's processes: no program of its own.
    assert host.run("pgrep -f probe_hang_handler").rc == 1
    others = [site.get(HELLO).status for _ in range(20)]
    thread.join(TIMEOUT + 30)
    assert not thread.is_alive(), "the hanging request was never answered"
    assert others == [200] * 20
    assert hanging["reply"].status == 504, hanging["reply"]
    assert "too late" not in hanging["reply"].body
    assert TIMEOUT - 1 <= hanging["seconds"] <= TIMEOUT + 15, hanging["seconds"]
    record(f"a hanging handler: 504 after {hanging['seconds']:.1f} s; 20 other requests 200")


def test_two_thousand_parallel_posts_are_two_thousand_rows(host):
    """In persistent mode, at the kit's default busy timeout, every POST is accepted.
    (At this scenario's 1 s, a writer can still wait past it behind the other
    process's writers: 0 to 3 of 2,000 were refused, each a 503 and no row.)"""
    default = yaml.safe_load((PROJECT / "roles/apache_cgi/defaults/main.yml").read_text())
    busy_ms = default["apache_cgi_busy_timeout_ms"]
    settings = {"apache_cgi_mode": "wsgi", "apache_cgi_busy_timeout_ms": busy_ms}
    result = playbook("-e", json.dumps(settings))
    assert result.returncode == 0, result.stdout[-3000:]
    assert_parallel_posts_are_rows(host, "load-test-wsgi.txt", max_refused=0)


def test_switching_back_to_cgi_refuses_no_request_and_leaves_no_process(host):
    watch = switch(host, SETTINGS["apache_cgi_mode"])
    assert watch.served_throughout(), watch.explain()
    assert site_processes(host, []) == []
    assert not host.file("/etc/apache2/mods-enabled/wsgi.load").exists
    assert without_the_package(apache_configuration(host)) == without_the_package(
        BEFORE["configuration"]
    )


def test_a_reload_under_load_in_cgi_mode_refuses_only_in_apaches_restart_window(host):
    reloads_under_load(host, "cgi")
