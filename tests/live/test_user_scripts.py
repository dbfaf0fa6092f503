"""Users' own CGI programs as they bring them, on every host under test.

The tutorial's hello script exactly as the tutorial writes it (``import cgi``,
``print`` with ``\\r\\n``, the name echoed unescaped), with either shebang; a shell
CGI; a Perl CGI that needs a Debian package (``apache_cgi_packages``); a compiled
program.  They are published beside the kit's scripts, then broken scripts are
refused before any change, then they are taken out of the source folder and
leave the hosts, while a CGI the kit never deployed stays.  The tests run in
order (each phase builds on the one before) and leave the hosts as they found
them but for the packages installed.
"""

from __future__ import annotations

import json
import platform
import shutil
import struct
from pathlib import Path
from urllib.parse import quote

import pytest
import testinfra
from browsing import launch, recording_context
from kit import (
    CGI_DIR,
    HTTPS_PORT,
    PROJECT,
    SCENARIO_SCRIPTS,
    Client,
    changes,
    playbook,
    published_port,
)

LEGACY = PROJECT / "tests" / "fixtures" / "legacy-cgi-bin"
# A CGI another package put in the distribution's folder: never the kit's to remove.
FOREIGN = f"{CGI_DIR}/other-package.cgi"
FOREIGN_SOURCE = "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\nnot the kit\\n'\n"
PACKAGES = json.dumps({"apache_cgi_packages": ["libcgi-pm-perl"]})
# The users' programs, as published.
USER_PROGRAMS = ["tutorial.py", "tutorial_env.py", "hello.sh", "hello.pl", "hello.cgi"]
# Broken scripts and what the play must say of each.
BROKEN = {
    "windows.py": (b"#!/usr/bin/python3\r\nprint('Content-Type: text/plain')\r\n", "a CR"),
    "ruby.rb": (b"#!/usr/bin/ruby\nputs 'Content-Type: text/plain'\n", "/usr/bin/ruby is not"),
    "syntax.py": (b"#!/usr/bin/python3\nprint('unclosed'\n", "line 2: "),
    "bare.py": (b"print('Content-Type: text/plain')\n", "no shebang line"),
}


def hello_elf() -> bytes:
    """A static x86-64 Linux program that writes a plain-text CGI response and exits:
    what a compiled CGI is, built here so that the test needs no compiler."""
    message = b"Content-Type: text/plain\r\n\r\nHello from a compiled program\n"
    code = (
        b"\xb8\x01\x00\x00\x00"  # mov eax, 1 (write)
        b"\xbf\x01\x00\x00\x00"  # mov edi, 1 (stdout)
        b"\x48\x8d\x35\x10\x00\x00\x00"  # lea rsi, [rip + 16] (the message)
        + b"\xba"
        + struct.pack("<I", len(message))  # mov edx, len
        + b"\x0f\x05"  # syscall
        b"\xb8\x3c\x00\x00\x00"  # mov eax, 60 (exit)
        b"\x31\xff"  # xor edi, edi
        b"\x0f\x05"  # syscall
    )
    base, start = 0x400000, 64 + 56
    size = start + len(code) + len(message)
    header = struct.pack(
        "<16sHHIQQQIHHHHHH",
        b"\x7fELF\x02\x01\x01" + bytes(9),
        2,  # an executable
        0x3E,  # x86-64
        1,
        base + start,
        64,
        0,
        0,
        64,
        56,
        1,
        0,
        0,
        0,
    )
    segment = struct.pack("<IIQQQQQQ", 1, 5, 0, base, base, size, size, 0x1000)
    return header + segment + code + message


@pytest.fixture(scope="module")
def hosts(pytestconfig) -> list:
    return [testinfra.get_host(spec) for spec in pytestconfig.getoption("hosts").split(",")]


def scripts_copy(folder: Path) -> Path:
    """A copy of the scripts the scenario converged with, to add to."""
    shutil.copytree(SCENARIO_SCRIPTS if SCENARIO_SCRIPTS.is_dir() else PROJECT / "cgi-bin", folder)
    return folder


def converge(source: Path, *args: str):
    return playbook("-e", f"apache_cgi_scripts_src={source}", *args)


def failure(result) -> str:
    return result.stdout[-4000:] + result.stderr[-2000:]


@pytest.fixture(scope="module")
def users_source(tmp_path_factory) -> Path:
    """The scenario's scripts with the users' programs added."""
    if platform.machine() != "x86_64":
        pytest.fail(f"hello_elf() is an x86-64 program; this machine is {platform.machine()}")
    source = scripts_copy(tmp_path_factory.mktemp("users") / "cgi-bin")
    for name in ("tutorial.py", "hello.sh", "hello.pl"):
        shutil.copy2(LEGACY / name, source / name)
    tutorial = (LEGACY / "tutorial.py").read_text()
    (source / "tutorial_env.py").write_text(
        tutorial.replace("#!/usr/bin/python3", "#!/usr/bin/env python3", 1)
    )
    (source / "hello.cgi").write_bytes(hello_elf())
    return source


@pytest.fixture(scope="module")
def published(hosts, users_source):
    """The users' programs published by one converge, beside a CGI of another package's."""
    for host in hosts:
        host.run_expect([0], "printf %s > %s && chmod 0755 %s", FOREIGN_SOURCE, FOREIGN, FOREIGN)
    result = converge(users_source, "-e", PACKAGES)
    assert result.returncode == 0, failure(result)
    yield result
    for host in hosts:
        host.run_expect([0], "rm -f %s", FOREIGN)


def test_the_tutorials_script_answers_get_and_post_on_every_host(hosts, published):
    for host in hosts:
        client = Client(host, "controller")
        for script in ("tutorial.py", "tutorial_env.py"):
            got = client.get(f"/cgi-bin/{script}?name=Ada&happy=on")
            assert got.status == 200, (host, script, got)
            assert got.headers["content-type"].startswith("text/html"), got
            assert "<h1>HelloAda! Thanks for using my script!</h1>" in got.body, got
            assert "Yayy! I'm happy too!" in got.body
            assert "Why are you sad" not in got.body
            posted = client.post_form(f"/cgi-bin/{script}", "name=Bob&sad=on")
            assert posted.status == 200, (host, script, posted)
            assert "<h1>HelloBob! Thanks for using my script!</h1>" in posted.body, posted
            assert "Oh no! Why are you sad?" in posted.body
            assert "Yayy" not in posted.body
            # The kit's headers hold for the users' scripts too.
            assert "script-src" in got.headers["content-security-policy"], got


def test_python3_legacy_cgi_comes_only_where_python_lacks_cgi(hosts, published):
    for host in hosts:
        lacks_cgi = host.run("python3 -I -c 'import sys; sys.exit(sys.version_info < (3, 13))'")
        installed = host.package("python3-legacy-cgi").is_installed
        assert installed is (lacks_cgi.rc == 0), host.backend.get_hostname()


def test_shell_perl_and_compiled_programs_answer(hosts, published):
    for host in hosts:
        client = Client(host, "controller")
        shell = client.get("/cgi-bin/hello.sh?abc")
        assert (shell.status, shell.body) == (200, "Hello from sh: GET, a query of 3 bytes\n")
        perl = client.get("/cgi-bin/hello.pl?name=Grace")
        assert (perl.status, perl.body) == (200, "Hello from Perl, Grace\n"), perl
        compiled = client.get("/cgi-bin/hello.cgi")
        assert (compiled.status, compiled.body) == (200, "Hello from a compiled program\n")
        # The kit's own scripts are served as before.
        assert client.get("/cgi-bin/hello.py").status == 200


def test_users_programs_get_the_kits_permissions(hosts, published):
    for host in hosts:
        for name in USER_PROGRAMS:
            program = host.file(f"{CGI_DIR}/{name}")
            assert (program.user, program.group, program.mode) == ("root", "root", 0o755), name


def test_the_policy_keeps_a_script_injected_through_the_tutorial_from_running(
    hosts, published, playwright
):
    """The tutorial echoes ``name`` unescaped (its own bug): the element an attacker
    injects is on the page, and the browser does not run it."""
    injected = "<script>window.injected = true; document.title = 'owned'</script>"
    for host in hosts:
        browser = launch(playwright, host, accept_certificate=True)
        try:
            context = recording_context(browser)
            page = context.new_page()
            port = published_port(host.backend.get_hostname(), HTTPS_PORT)
            page.goto(
                f"https://{host.backend.get_hostname()}:{port}/cgi-bin/tutorial.py"
                f"?name={quote(injected)}"
            )
            assert page.locator("script").count() == 1  # the injection reached the page
            assert page.evaluate("() => window.injected === undefined")
            assert page.title() != "owned"
            page.wait_for_timeout(200)
            assert any("inline script" in violation for violation in context.csp_violations)
        finally:
            browser.close()


@pytest.fixture(scope="module")
def refused(hosts, users_source, published, tmp_path_factory):
    """A converge with broken scripts added to the published ones."""
    source = tmp_path_factory.mktemp("broken") / "cgi-bin"
    shutil.copytree(users_source, source)
    for name, (content, _) in BROKEN.items():
        (source / name).write_bytes(content)
        (source / name).chmod(0o755)
    return source, converge(source, "-e", PACKAGES)


def test_broken_scripts_fail_the_play_naming_each_before_any_change(hosts, refused):
    source, result = refused
    output = result.stdout
    assert result.returncode != 0, failure(result)
    assert f"{len(BROKEN)} of the scripts can't run as CGI programs" in output, failure(result)
    for name, (_, fault) in BROKEN.items():
        assert f"{source}/{name}: " in output, name
        assert fault in output.split(f"{source}/{name}: ", 1)[1].split(";", 1)[0], name
    assert "Apache was not reloaded" in output
    # Every host failed, and none changed anything.
    assert changes(result) == [("0", "1")] * len(hosts), failure(result)


def test_after_the_refusal_every_script_still_answers_and_none_broken_is_live(hosts, refused):
    for host in hosts:
        client = Client(host, "controller")
        for name in ["hello.py", *USER_PROGRAMS]:
            assert client.get(f"/cgi-bin/{name}").status == 200, (host, name)
        for name in BROKEN:
            assert not host.file(f"{CGI_DIR}/{name}").exists, name


@pytest.fixture(scope="module")
def without_users(refused, tmp_path_factory) -> Path:
    return scripts_copy(tmp_path_factory.mktemp("without") / "cgi-bin")


def test_check_diff_shows_the_removal_and_removes_nothing(hosts, without_users):
    result = converge(without_users, "--check", "--diff")
    assert result.returncode == 0, failure(result)
    for name in USER_PROGRAMS:
        assert f"--- before: {CGI_DIR}/{name}\n+++ after: /dev/null" in result.stdout, name
    assert FOREIGN not in result.stdout
    for host in hosts:
        for name in USER_PROGRAMS:
            assert host.file(f"{CGI_DIR}/{name}").exists, name


def test_a_script_taken_out_of_the_folder_leaves_the_host(hosts, without_users):
    result = converge(without_users)
    assert result.returncode == 0, failure(result)
    for host in hosts:
        client = Client(host, "controller")
        for name in USER_PROGRAMS:
            assert not host.file(f"{CGI_DIR}/{name}").exists, name
            assert client.get(f"/cgi-bin/{name}").status == 404, name
        assert client.get("/cgi-bin/hello.py").status == 200
        # What the kit never deployed stays, and runs.
        foreign = client.get("/cgi-bin/other-package.cgi")
        assert (foreign.status, foreign.body) == (200, "not the kit\n"), foreign
    again = converge(without_users)
    assert changes(again) == [("0", "0")] * len(hosts), failure(again)
