"""Feedback form: a name, a mood from a fixed list and a message, stored in SQLite.

A valid POST stores one row and answers 303 See Other to the thank-you view,
so reloading never stores twice.  An invalid one shows the form again with
the input kept, a message per field and status 400, and stores nothing.
"""

from __future__ import annotations

import sys

import cgikit
import kitstore

__all__ = [
    "MAX_MESSAGE",
    "MAX_NAME",
    "handle",
    "main",
]

MAX_NAME = 100
MAX_MESSAGE = 1000
TITLE = "Feedback"


def field_error(errors: dict[str, str], name: str) -> str:
    """The message under one field, or nothing."""
    if name not in errors:
        return ""
    return f'<p class="error" id="{name}-error">{cgikit.escape(errors[name])}</p>\n'


def described_by(errors: dict[str, str], name: str) -> str:
    return f' aria-describedby="{name}-error" aria-invalid="true"' if name in errors else ""


def form(values: dict[str, str], errors: dict[str, str]) -> str:
    """The form's markup, keeping what the user entered."""
    options = "".join(
        f'<option value="{mood}"{" selected" if values.get("mood") == mood else ""}>'
        f"{mood.capitalize()}</option>\n"
        for mood in kitstore.MOODS
    )
    summary = '<p class="error">Please correct the fields marked below.</p>\n' if errors else ""
    return (
        f"<h1>{TITLE}</h1>\n{summary}"
        '<form method="post" action="feedback.py">\n'
        '<div class="field"><label for="name">Your name</label>\n'
        f'<input id="name" name="name" type="text" maxlength="{MAX_NAME}" required'
        f'{described_by(errors, "name")} value="{cgikit.escape(values.get("name", ""))}">\n'
        f"{field_error(errors, 'name')}</div>\n"
        '<div class="field"><label for="mood">Your mood</label>\n'
        f'<select id="mood" name="mood" required'
        f'{described_by(errors, "mood")}>\n<option value="">Choose one</option>\n{options}'
        f"</select>\n{field_error(errors, 'mood')}</div>\n"
        '<div class="field"><label for="message">'
        f"Your message (up to {MAX_MESSAGE} characters)</label>\n"
        f'<textarea id="message" name="message" rows="6" maxlength="{MAX_MESSAGE}" required'
        f"{described_by(errors, 'message')}>{cgikit.escape(values.get('message', ''))}"
        f"</textarea>\n{field_error(errors, 'message')}</div>\n"
        '<p><button type="submit">Send feedback</button></p>\n</form>'
    )


def problems(name: str, mood: str, message: str) -> dict[str, str]:
    """A message per field that can't be stored as it is."""
    errors = {
        "name": cgikit.text_problem(name, "Your name", MAX_NAME, "Please enter your name."),
        "message": cgikit.text_problem(
            message, "Your message", MAX_MESSAGE, "Please write a message.", "\n\t"
        ),
    }
    if mood not in kitstore.MOODS:
        errors["mood"] = "Please choose one of the moods in the list."
    return {field: problem for field, problem in errors.items() if problem}


def thanks() -> str:
    return (
        "<h1>Thank you</h1>\n<p>Your feedback was saved.</p>\n"
        '<p><a href="feedback.py">Send more feedback</a></p>'
    )


def handle(request: cgikit.Request) -> cgikit.Response:
    """Show the form or the thank-you view; store a valid submission."""
    if request.method != "POST":
        if request.get("thanks"):
            return cgikit.page("Thank you", thanks())
        return cgikit.page(TITLE, form({}, {}))
    cgikit.require_same_origin(request.environ)
    values = {
        "name": request.get("name").strip(),
        "mood": request.get("mood"),
        "message": request.get("message").replace("\r\n", "\n"),
    }
    errors = problems(values["name"], values["mood"], values["message"])
    if errors:
        return cgikit.page(TITLE, form(values, errors), status=400)
    try:
        kitstore.add_feedback(values["name"], values["mood"], values["message"])
    except kitstore.StoreFull as full:
        sys.stderr.write(f"feedback.py: refused a submission: {full}\n")  # the error log
        return cgikit.message_page(
            503,
            "The feedback store is full: it takes no more submissions until the site's "
            "owner makes room. Nothing was saved.",
        )
    except kitstore.StorageError:
        cgikit.log_exception()
        return cgikit.unavailable_page("Your feedback could not be saved just now.")
    return cgikit.see_other("feedback.py?thanks=1")


def main() -> None:
    """Serve the request Apache started this script for."""
    cgikit.run(handle, exit_now=True)
