"""Benchmark: CGI requests against the interpreter's floor, and provisioning time.

Run through ``scripts/benchmark``, which installs what this needs.  It brings
up fresh Debian 12 and 13 hosts the way Molecule's default scenario does
(``molecule/benchmark``: the same images, systemd, SSH), then measures, side
by side in one run:

- provisioning: the playbook's first converge of a fresh host against
  ``baseline-provision.sh`` on an identical fresh host; the second converge
  (nothing to change) against a play that only gathers facts;
- requests: ``ab`` inside each host against loopback (HTTPS, keep-alive),
  several rounds, the endpoints interleaved within each round, medians: a
  static file, a ``/bin/sh`` CGI, a ``python3 -IS`` CGI (the Python floor),
  a ``cgi.FieldStorage`` tutorial script, and the kit's scripts.

Every number is also given as a ratio (to the Python floor, to the baseline)
because only ratios measured in one run compare across these noisy machines.
Writes ``results/benchmark.md``, ``.png`` and ``.json``; nothing here asserts
a time: it is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
BENCH = PROJECT / "benchmark"
RESULTS = PROJECT / "results"
PUBLISHED = PROJECT / "docs" / "benchmark"
SCENARIO = "benchmark"
RELEASES = ("12", "13")
PASSWORD = "benchmark-only-dashboard-password"  # as molecule/benchmark/molecule.yml sets it
DASHBOARD_ROWS = 1000
FLOOR = "python3 -IS CGI (the floor)"
HELLO_BODY = "name=Ada&happy=on"


@dataclass
class Endpoint:
    """One URL measured with ab, and what every answer to it must be."""

    name: str
    path: str
    body: str = ""
    redirects: bool = False  # every answer is a 303 (and a stored row)
    headers: list[str] = field(default_factory=list)
    auth: str = ""
    target: float | None = None  # the least ratio to the Python floor the kit aims at
    bcrypt_cost: int | None = None  # the password hashed at this cost while measured
    scale: int = 1  # this many times the requests of a run


ENDPOINTS = [
    Endpoint("static file", "/kit-static/kit.css"),
    Endpoint("/bin/sh CGI", "/cgi-bin/bench-floor.sh"),
    Endpoint(FLOOR, "/cgi-bin/bench-floor.py"),
    Endpoint("cgi.FieldStorage tutorial POST", "/cgi-bin/bench-tutorial.py", HELLO_BODY),
    Endpoint("hello.py GET", "/cgi-bin/hello.py", target=0.85),
    Endpoint("hello.py POST", "/cgi-bin/hello.py", HELLO_BODY, target=0.85),
    Endpoint(
        "feedback.py POST",
        "/cgi-bin/feedback.py",
        "name=Bench&mood=happy&message=Measured+by+ab.",
        redirects=True,
        headers=["Sec-Fetch-Site: same-origin"],
        target=0.6,
    ),
    # The script's own cost, at the cheapest bcrypt cost the kit shipped (its target was
    # set at that cost), then as shipped: Apache checks the hash on every request.
    Endpoint(
        f"dashboard.py GET ({DASHBOARD_ROWS:,} rows), bcrypt cost 5",
        "/cgi-bin/dashboard.py",
        auth=f"admin:{PASSWORD}",
        target=0.6,
        bcrypt_cost=5,
    ),
    Endpoint(
        f"dashboard.py GET ({DASHBOARD_ROWS:,} rows), bcrypt cost 10 (the default)",
        "/cgi-bin/dashboard.py",
        auth=f"admin:{PASSWORD}",
    ),
]
# Persistent mode (apache_cgi_mode: wsgi): the kit's scripts again, after a
# converge into that mode, with the static file and the Python floor (a plain
# script, which stays CGI) measured in the same rounds.  Many more requests per
# run: each takes far less time.
PERSISTENT = " in persistent mode"
STATIC = "static file"
PERSISTENT_ENDPOINTS = [
    Endpoint(STATIC, "/kit-static/kit.css", scale=10),
    Endpoint(FLOOR, "/cgi-bin/bench-floor.py"),
    Endpoint("hello.py GET" + PERSISTENT, "/cgi-bin/hello.py", target=15, scale=10),
    Endpoint("hello.py POST" + PERSISTENT, "/cgi-bin/hello.py", HELLO_BODY, target=15, scale=10),
    Endpoint(
        "feedback.py POST" + PERSISTENT,
        "/cgi-bin/feedback.py",
        "name=Bench&mood=happy&message=Measured+by+ab.",
        redirects=True,
        headers=["Sec-Fetch-Site: same-origin"],
        target=8,
        scale=10,
    ),
    Endpoint(
        f"dashboard.py GET ({DASHBOARD_ROWS:,} rows), bcrypt cost 5" + PERSISTENT,
        "/cgi-bin/dashboard.py",
        auth=f"admin:{PASSWORD}",
        target=8,
        bcrypt_cost=5,
        scale=10,
    ),
    Endpoint(
        f"dashboard.py GET ({DASHBOARD_ROWS:,} rows), bcrypt cost 10" + PERSISTENT,
        "/cgi-bin/dashboard.py",
        auth=f"admin:{PASSWORD}",
    ),
]
HTPASSWD = "/etc/apache2/cgi-kit.htpasswd"
DEFAULT_BCRYPT_COST = 10  # apache_cgi_dashboard_bcrypt_cost


def log(message: str) -> None:
    print(f"benchmark: {message}", flush=True)


def run(command: list[str], stdin: bytes = b"", **kwargs) -> str:
    """Run a command on the controller and return its output; stop the benchmark if it fails."""
    result = subprocess.run(command, input=stdin, capture_output=True, check=False, **kwargs)
    if result.returncode != 0:
        sys.exit(
            f"benchmark: {shlex.join(command)} failed:\n"
            f"{result.stdout.decode(errors='replace')}{result.stderr.decode(errors='replace')}"
        )
    return result.stdout.decode()


def seconds_taken(command: list[str], **kwargs) -> tuple[float, str]:
    start = time.perf_counter()
    output = run(command, **kwargs)
    return time.perf_counter() - start, output


class Scenario:
    """The benchmark's Molecule scenario and its hosts, reached over SSH."""

    def __init__(self, ephemeral: Path) -> None:
        self.ephemeral = ephemeral
        self.env = dict(
            os.environ,
            MOLECULE_EPHEMERAL_DIRECTORY=str(ephemeral),
            ANSIBLE_CONFIG=str(PROJECT / "ansible.cfg"),
            ANSIBLE_NOCOLOR="1",
        )
        # Each playbook says its strategy; Molecule's own playbooks keep Ansible's.
        self.env.pop("ANSIBLE_STRATEGY", None)

    def molecule(self, action: str) -> None:
        run(["molecule", action, "--scenario-name", SCENARIO], cwd=PROJECT, env=self.env)

    def ssh(self, host: str, command: str, stdin: bytes = b"") -> str:
        config = str(self.ephemeral / "ssh" / "config")
        return run(["ssh", "-F", config, host, command], stdin)

    def playbook(
        self, playbook: Path, host: str, strategy: str = "linear", *extra: str
    ) -> tuple[float, str]:
        """Run a playbook against one host; its wall-clock time (Ansible's start-up included)."""
        inventory = str(self.ephemeral / "inventory" / "ansible_inventory.yml")
        command = ["ansible-playbook", "-i", inventory, str(playbook), "--limit", host, *extra]
        env = dict(self.env, ANSIBLE_STRATEGY=strategy)
        return seconds_taken(command, cwd=PROJECT, env=env)


def recap_count(playbook_output: str, field: str) -> int:
    """A count of the play recap (``ok``, ``changed``, ``skipped``), over its hosts."""
    recap = [line for line in playbook_output.splitlines() if " changed=" in line]
    return sum(int(line.split(f" {field}=")[1].split()[0]) for line in recap)


def changed_tasks(playbook_output: str) -> int:
    """The ``changed=`` count of the play recap."""
    return recap_count(playbook_output, "changed")


def project_archive() -> bytes:
    """cgi-bin/ and static/ as a tar archive: what the baseline script deploys."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        archive.add(PROJECT / "cgi-bin", "cgi-bin")
        archive.add(PROJECT / "static", "static")
    return buffer.getvalue()


# How Ansible runs the tasks: its own linear strategy (the default), and
# Mitogen's (ANSIBLE_STRATEGY=mitogen_linear, see the README), each on a
# fresh host of its own.
STRATEGIES = {"linear": "", "mitogen_linear": "-mitogen"}
# The targets: a first converge at most this many times the baseline script, a
# converge with nothing to change at most this many times a facts-only play.
FIRST_CONVERGE_TARGET = 2
SECOND_CONVERGE_TARGET = 3


def measure_provisioning(scenario: Scenario, release: str, rounds: int, order: list[str]) -> dict:
    """First converge against the baseline script; second converge against gathering facts.

    ``order`` says which goes first: "baseline" and the strategies, each on a
    fresh host of its own (the first to install fetches packages through a
    colder network path; run.py turns the order round for the second release).
    """
    measured: dict = {"order": order, "strategies": {}}
    converges = {}
    for step in order:
        if step == "baseline":
            measured["baseline_s"] = run_baseline(scenario, release)
        else:
            converges[step] = measure_converges(scenario, release, step, rounds)
    measured["strategies"] = {strategy: converges[strategy] for strategy in STRATEGIES}
    return measured


def run_baseline(scenario: Scenario, release: str) -> float:
    """benchmark/baseline-provision.sh on a fresh host; its wall-clock time."""
    shell_host = f"bench-debian{release}-shell"
    log(f"Debian {release}: the baseline shell script on a fresh host")
    start = time.perf_counter()
    scenario.ssh(shell_host, "cat > /tmp/kit-files.tar", project_archive())
    script = (BENCH / "baseline-provision.sh").read_bytes()
    scenario.ssh(shell_host, "KIT_FILES=/tmp/kit-files.tar sh -s", script)
    seconds = time.perf_counter() - start
    serves_form(scenario, shell_host)
    return seconds


def measure_converges(scenario: Scenario, release: str, strategy: str, rounds: int) -> dict:
    """The first converge of a fresh host, then rounds of a second converge and of a
    facts-only play, all with ``strategy``."""
    host = f"bench-debian{release}{STRATEGIES[strategy]}"
    log(f"Debian {release}: the playbook's first converge of a fresh host ({strategy})")
    first, output = scenario.playbook(PROJECT / "playbook.yml", host, strategy)
    first_changed = changed_tasks(output)
    serves_form(scenario, host)
    log(f"Debian {release}: second converges and fact gathering, {rounds} rounds ({strategy})")
    second, facts, second_changed, second_tasks = [], [], 0, 0
    for _ in range(rounds):
        seconds, output = scenario.playbook(PROJECT / "playbook.yml", host, strategy)
        second.append(seconds)
        second_changed = max(second_changed, changed_tasks(output))
        # Tasks that ran (the recap's ok, which counts the changed too) and were skipped.
        second_tasks = recap_count(output, "ok") + recap_count(output, "skipped")
        facts.append(scenario.playbook(BENCH / "facts.yml", host, strategy)[0])
    return {
        "first_converge_s": first,
        "first_converge_changed": first_changed,
        "second_converge_s": statistics.median(second),
        "second_converge_changed": second_changed,
        "second_converge_tasks": second_tasks,
        "facts_s": statistics.median(facts),
        "second_converge_rounds_s": second,
        "facts_rounds_s": facts,
    }


def serves_form(scenario: Scenario, host: str) -> None:
    """Provisioning did the job: the host serves the hello form."""
    if "Hello form" not in scenario.ssh(host, "curl -sk https://127.0.0.1/cgi-bin/hello.py"):
        sys.exit(f"benchmark: {host} does not serve the hello form after provisioning")


def body_file(endpoint: Endpoint) -> str:
    return "/tmp/bench-body-" + "".join(c if c.isalnum() else "-" for c in endpoint.name)


def prepare_requests(scenario: Scenario, host: str, release: str) -> None:
    """The reference scripts beside the kit's, ab, the tutorial's cgi module, the POST bodies."""
    packages = ["apache2-utils"] + (["python3-legacy-cgi"] if release != "12" else [])
    install = "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq " + " ".join(packages)
    scenario.ssh(host, install + " >/dev/null")
    for script in sorted((BENCH / "cgi-bin").iterdir()):
        target = f"/usr/lib/cgi-bin/{script.name}"
        scenario.ssh(host, f"cat > {target} && chmod 0755 {target}", script.read_bytes())
    for endpoint in ENDPOINTS + PERSISTENT_ENDPOINTS:
        if endpoint.body:
            scenario.ssh(host, f"cat > {body_file(endpoint)}", endpoint.body.encode())


def rows(scenario: Scenario, host: str, *args: str) -> int:
    """benchmark/rows.py on the host, as the web server's user."""
    command = shlex.join(["runuser", "-u", "www-data", "--", "python3", "-", *args])
    return int(scenario.ssh(host, command, (BENCH / "rows.py").read_bytes()))


def hash_password(scenario: Scenario, host: str, cost: int) -> None:
    """Store the dashboard's password hashed at this bcrypt cost (Apache reads it per request)."""
    command = f"htpasswd -i -B -C {cost} {HTPASSWD} admin"
    scenario.ssh(host, command, PASSWORD.encode())


def ab(scenario: Scenario, host: str, endpoint: Endpoint, requests: int, concurrency: int) -> dict:
    """One ab run inside the host; every answer is checked.  Requests/s, p50 and p99 (ms)."""
    command = ["ab", "-q", "-k", "-l", "-s", "60", "-n", str(requests), "-c", str(concurrency)]
    command += ["-e", "/tmp/bench-percentiles.csv"]
    if endpoint.body:
        command += ["-p", body_file(endpoint), "-T", "application/x-www-form-urlencoded"]
    for header in endpoint.headers:
        command += ["-H", header]
    if endpoint.auth:
        command += ["-A", endpoint.auth]
    command.append(f"https://127.0.0.1{endpoint.path}")
    output = scenario.ssh(host, shlex.join(command) + " && cat /tmp/bench-percentiles.csv")
    report = ab_report(output)
    expected_non_2xx = requests if endpoint.redirects else 0
    if (
        int(report["Complete requests"]) != requests
        or int(report["Failed requests"]) != 0
        or int(report.get("Non-2xx responses", "0")) != expected_non_2xx
    ):
        sys.exit(f"benchmark: {endpoint.name} on {host}: unexpected answers\n{output}")
    percentiles = ab_percentiles(output)
    return {
        "rps": float(report["Requests per second"].split()[0]),
        "p50_ms": percentiles[50],
        "p99_ms": percentiles[99],
    }


def ab_report(output: str) -> dict[str, str]:
    """ab's "Name: value" lines."""
    report = {}
    for line in output.splitlines():
        name, _, value = line.partition(":")
        if value:
            report[name.strip()] = value.strip()
    return report


def ab_percentiles(output: str) -> dict[int, float]:
    """The CSV that ab -e writes: percentage served, time in ms."""
    percentiles = {}
    for line in output.splitlines():
        cells = line.split(",")
        if len(cells) == 2 and cells[0].isdigit():
            percentiles[int(cells[0])] = float(cells[1])
    return percentiles


def measure_requests(
    scenario: Scenario,
    host: str,
    endpoints: list[Endpoint],
    rounds: int,
    requests: int,
    concurrency: int,
) -> dict:
    """Every endpoint once per round, rounds one after another; the median of each measure,
    and its ratios to the Python floor and to the static file measured in the same rounds."""
    runs: dict[str, list[dict]] = {endpoint.name: [] for endpoint in endpoints}
    for number in range(1, rounds + 1):
        log(f"{host}: requests, round {number} of {rounds}")
        for endpoint in endpoints:
            count = requests * endpoint.scale
            if endpoint.auth:
                rows(scenario, host, "set", str(DASHBOARD_ROWS))
            before = rows(scenario, host, "count")
            if endpoint.bcrypt_cost:
                hash_password(scenario, host, endpoint.bcrypt_cost)
            runs[endpoint.name].append(ab(scenario, host, endpoint, count, concurrency))
            if endpoint.bcrypt_cost:
                hash_password(scenario, host, DEFAULT_BCRYPT_COST)
            stored = rows(scenario, host, "count") - before
            if stored != (count if endpoint.redirects else 0):
                sys.exit(f"benchmark: {endpoint.name} on {host} stored {stored} rows")
    summary = {}
    for name, results in runs.items():
        summary[name] = {
            key: statistics.median(result[key] for result in results)
            for key in ("rps", "p50_ms", "p99_ms")
        }
        summary[name]["rounds"] = results
    for measures in summary.values():
        measures["ratio"] = measures["rps"] / summary[FLOOR]["rps"]
        measures["static_ratio"] = measures["rps"] / summary[STATIC]["rps"]
    return summary


def measure_persistent(
    scenario: Scenario, release: str, rounds: int, requests: int, concurrency: int
) -> dict:
    """The host converged into persistent mode, its requests measured, and the memory of
    each of the site's long-lived processes after them (resident, MiB)."""
    host = f"bench-debian{release}"
    log(f"Debian {release}: a converge into persistent mode")
    _seconds, output = scenario.playbook(
        PROJECT / "playbook.yml", host, "linear", "-e", "apache_cgi_mode=wsgi"
    )
    if " failed=0" not in output:
        sys.exit(f"benchmark: the converge into persistent mode failed on {host}\n{output}")
    summary = measure_requests(scenario, host, PERSISTENT_ENDPOINTS, rounds, requests, concurrency)
    resident = scenario.ssh(host, "ps -eo rss=,args= | awk '$2 ~ /^wsgi:/ {print $1}'")
    summary["memory_mib"] = [round(int(kib) / 1024, 1) for kib in resident.split()]
    return summary


def command_output(command: list[str]) -> str:
    if not shutil.which(command[0]):
        return ""
    return subprocess.run(command, capture_output=True, text=True, check=False).stdout.strip()


def machine() -> dict:
    """What the numbers were measured on."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in command_output(["lscpu"]).splitlines()
            if line.startswith("Model name")
        ),
        platform.machine(),
    )
    os_release = dict(
        line.split("=", 1)
        for line in Path("/etc/os-release").read_text().splitlines()
        if "=" in line
    )
    meminfo = Path("/proc/meminfo").read_text().split()
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(int(meminfo[meminfo.index("MemTotal:") + 1]) / 1024 / 1024),
        "os": os_release.get("PRETTY_NAME", "").strip('"'),
        "kernel": platform.release(),
        "podman": command_output(["podman", "--version"]),
        "ansible": command_output(["ansible", "--version"]).splitlines()[0],
    }


def verdict(ratio: float, target: float, higher_is_better: bool) -> str:
    met = ratio >= target if higher_is_better else ratio <= target
    return "met" if met else "**not met**"


def markdown(results: dict) -> str:
    """The report: the machine, then provisioning and requests per release."""
    info = results["machine"]
    lines = [
        "# Benchmark",
        "",
        f"Measured {info['date']} on {info['cpu']} ({info['cores']} cores, "
        f"{info['memory_gib']} GiB), {info['os']}, kernel {info['kernel']}, {info['podman']}, "
        f"{info['ansible']}. Test hosts: podman containers with systemd, reached over SSH. "
        f"Requests: ab inside each host against loopback over HTTPS with keep-alive, "
        f"{info['requests']} requests at concurrency {info['concurrency']}, median of "
        f"{info['rounds']} rounds. Absolute numbers vary between machines and runs; the "
        "ratios are the result.",
    ]
    if not any("provisioning" in measured for measured in results["releases"].values()):
        lines.append("")
        lines.append("Provisioning was not measured in this run (`--requests-only`).")
    else:
        lines += provisioning_lines(results)
    lines += requests_lines(results)
    return "\n".join(lines) + "\n"


def provisioning_lines(results: dict) -> list[str]:
    """The provisioning section of the report."""
    lines = [
        "",
        "## Provisioning",
        "",
        "Each first converge and the baseline script ran on a fresh host of their own, in "
        "this order (the first to install fetches packages through a colder network path): "
        + "; ".join(
            f"Debian {release}: {', '.join(measured['provisioning']['order'])}"
            for release, measured in results["releases"].items()
            if "provisioning" in measured
        )
        + ".",
        "",
        f"| Debian | strategy | baseline script | first converge "
        f"| ratio (target ≤ {FIRST_CONVERGE_TARGET}) | gather facts | second converge "
        f"| tasks (s a task) | ratio (target ≤ {SECOND_CONVERGE_TARGET}) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for release, measured in results["releases"].items():
        if "provisioning" not in measured:
            continue
        p = measured["provisioning"]
        for strategy, kit in p["strategies"].items():
            first_ratio = kit["first_converge_s"] / p["baseline_s"]
            tasks = kit.get("second_converge_tasks", 0)
            second_ratio = kit["second_converge_s"] / kit["facts_s"]
            lines.append(
                f"| {release} | {strategy} | {p['baseline_s']:.1f} s "
                f"| {kit['first_converge_s']:.1f} s ({kit['first_converge_changed']} changed) "
                f"| {first_ratio:.2f} {verdict(first_ratio, FIRST_CONVERGE_TARGET, False)} "
                f"| {kit['facts_s']:.1f} s "
                f"| {kit['second_converge_s']:.1f} s ({kit['second_converge_changed']} changed) "
                f"| {tasks} ({kit['second_converge_s'] / max(tasks, 1):.2f} s) "
                f"| {second_ratio:.2f} {verdict(second_ratio, SECOND_CONVERGE_TARGET, False)} |"
            )
    return lines


def requests_lines(results: dict) -> list[str]:
    """The requests sections of the report, and the memory of persistent mode."""
    lines = []
    for title, key, endpoints in (
        ("Requests (CGI)", "requests", ENDPOINTS),
        ("Requests in persistent mode (apache_cgi_mode: wsgi)", "persistent", PERSISTENT_ENDPOINTS),
    ):
        lines += [
            "",
            f"## {title}",
            "",
            "| Debian | request | requests/s | p50 ms | p99 ms | ratio to the Python floor "
            "| target | ratio to the static file |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for release, measured in results["releases"].items():
            for endpoint in endpoints:
                lines.append(request_row(release, endpoint, measured[key][endpoint.name]))
    lines.append("")
    for release, measured in results["releases"].items():
        memory = ", ".join(f"{mib} MiB" for mib in measured["persistent"]["memory_mib"])
        lines.append(
            f"Debian {release}, persistent mode: resident memory of each of the site's "
            f"processes after the runs: {memory}."
        )
    return lines


def request_row(release: str, endpoint: Endpoint, m: dict) -> str:
    """One row of a requests table."""
    target = (
        f"≥ {endpoint.target} {verdict(m['ratio'], endpoint.target, True)}"
        if endpoint.target
        else ""
    )
    return (
        f"| {release} | {endpoint.name} | {m['rps']:.0f} | {m['p50_ms']:.1f} "
        f"| {m['p99_ms']:.1f} | {m['ratio']:.3f} | {target} | {m['static_ratio']:.3f} |"
    )


def chart(results: dict, path: Path) -> None:
    """Two panels: requests as a ratio to the Python floor, and provisioning ratios."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    releases = list(results["releases"])
    figure, (requests_axis, provisioning_axis) = plt.subplots(
        1, 2, figsize=(15, 6.5), gridspec_kw={"width_ratios": [2.4, 1.2]}
    )
    names = [endpoint.name for endpoint in ENDPOINTS if endpoint.name != "static file"]
    width = 0.8 / len(releases)
    for index, release in enumerate(releases):
        ratios = [results["releases"][release]["requests"][name]["ratio"] for name in names]
        positions = [n + index * width for n in range(len(names))]
        requests_axis.barh(positions, ratios, height=width, label=f"Debian {release}")
    requests_axis.set_yticks([n + width * (len(releases) - 1) / 2 for n in range(len(names))])
    requests_axis.set_yticklabels(names)
    requests_axis.invert_yaxis()
    for target, style in ((0.85, "--"), (0.6, ":")):
        requests_axis.axvline(target, color="grey", linestyle=style, label=f"target {target}")
    requests_axis.set_xlabel("requests/s as a ratio to the python3 -IS floor (higher is better)")
    requests_axis.legend(loc="lower right")
    provisioning_labels = ["first converge\n÷ baseline script", "second converge\n÷ gather facts"]
    bars = [
        (release, strategy, measured)
        for release in releases
        if "provisioning" in results["releases"][release]
        for strategy, measured in results["releases"][release]["provisioning"]["strategies"].items()
    ]
    bar_width = 0.8 / max(len(bars), 1)
    highest = 0.0
    for index, (release, strategy, kit) in enumerate(bars):
        baseline = results["releases"][release]["provisioning"]["baseline_s"]
        ratios = [kit["first_converge_s"] / baseline, kit["second_converge_s"] / kit["facts_s"]]
        highest = max(highest, *ratios)
        positions = [n + index * bar_width for n in range(2)]
        provisioning_axis.bar(
            positions, ratios, width=bar_width, label=f"Debian {release}, {strategy}"
        )
    provisioning_axis.set_ylim(0, max(highest, 1) * 1.45)  # room for the legend above the bars
    provisioning_axis.set_xticks([n + bar_width * (len(bars) - 1) / 2 for n in range(2)])
    provisioning_axis.set_xticklabels(provisioning_labels)
    provisioning_axis.plot([-0.4, 0.9], [FIRST_CONVERGE_TARGET] * 2, color="grey", linestyle="--")
    provisioning_axis.plot([0.6, 1.9], [SECOND_CONVERGE_TARGET] * 2, color="grey", linestyle="--")
    provisioning_axis.set_ylabel("time ratio (lower is better; dashed: target)")
    provisioning_axis.legend()
    figure.suptitle(f"Apache CGI Kit benchmark, {results['machine']['date']}")
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds of requests (median)")
    parser.add_argument("--requests", type=int, default=300, help="requests per ab run")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--converge-rounds", type=int, default=3, help="second converges (median)")
    parser.add_argument(
        "--publish", action="store_true", help="also copy the report and chart to docs/benchmark/"
    )
    parser.add_argument(
        "--releases", default=",".join(RELEASES), help="the Debian releases, comma-separated"
    )
    parser.add_argument(
        "--requests-only", action="store_true", help="measure requests, not provisioning"
    )
    args = parser.parse_args()
    releases = [release for release in args.releases.split(",") if release in RELEASES]
    RESULTS.mkdir(exist_ok=True)
    scenario = Scenario(RESULTS / "molecule")
    results = {"machine": machine(), "releases": {}}
    results["machine"].update(
        rounds=args.rounds, requests=args.requests, concurrency=args.concurrency
    )
    log("fresh hosts: molecule create (Debian 12 and 13, three of each)")
    scenario.molecule("destroy")
    scenario.molecule("create")
    try:
        order = ["baseline", *STRATEGIES]
        for release in releases:
            if args.requests_only:
                log(f"Debian {release}: a converge (provisioning not measured)")
                scenario.playbook(PROJECT / "playbook.yml", f"bench-debian{release}")
                results["releases"][release] = {}
                continue
            results["releases"][release] = {
                "provisioning": measure_provisioning(scenario, release, args.converge_rounds, order)
            }
            order = order[::-1]  # the other way round for the next release
        for release in releases:
            host = f"bench-debian{release}"
            prepare_requests(scenario, host, release)
            results["releases"][release]["requests"] = measure_requests(
                scenario, host, ENDPOINTS, args.rounds, args.requests, args.concurrency
            )
            results["releases"][release]["persistent"] = measure_persistent(
                scenario, release, args.rounds, args.requests, args.concurrency
            )
    finally:
        scenario.molecule("destroy")
    (RESULTS / "benchmark.json").write_text(json.dumps(results, indent=2) + "\n")
    report = markdown(results)
    (RESULTS / "benchmark.md").write_text(report)
    chart(results, RESULTS / "benchmark.png")
    print(report)
    if args.publish:
        PUBLISHED.mkdir(parents=True, exist_ok=True)
        for name in ("benchmark.md", "benchmark.png"):
            shutil.copy(RESULTS / name, PUBLISHED / name)
        log(f"published to {PUBLISHED.relative_to(PROJECT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
