"""The classic hello form: a name and two checkboxes, greeted back.

GET shows the form; POST (or GET with a query string) greets the user.
"""

from __future__ import annotations

import cgikit

__all__ = [
    "MAX_NAME",
    "handle",
    "main",
]

MAX_NAME = 100


def form(name: str = "", happy: bool = False, sad: bool = False, error: str = "") -> str:
    """The form's markup, keeping what the user entered."""
    message = f'<p class="error" id="name-error">{cgikit.escape(error)}</p>\n' if error else ""
    return (
        "<h1>Hello form</h1>\n"
        f"{message}"
        '<form method="post" action="hello.py">\n'
        '<p><label for="name">Your name</label>\n'
        f'<input id="name" name="name" type="text" maxlength="{MAX_NAME}" required'
        f' value="{cgikit.escape(name)}"></p>\n'
        f'<p><input id="happy" name="happy" type="checkbox"{" checked" if happy else ""}>\n'
        '<label for="happy">I am happy</label></p>\n'
        f'<p><input id="sad" name="sad" type="checkbox"{" checked" if sad else ""}>\n'
        '<label for="sad">I am sad</label></p>\n'
        '<p><button type="submit">Say hello</button></p>\n'
        "</form>"
    )


def greeting(name: str, happy: bool, sad: bool) -> str:
    """The greeting's markup."""
    moods = [line for ticked, line in ((happy, "You are happy."), (sad, "You are sad.")) if ticked]
    lines = "\n".join(f"<p>{line}</p>" for line in moods or ["You are neither happy nor sad."])
    return (
        f"<h1>Hello, {cgikit.escape(name)}!</h1>\n{lines}\n"
        '<p><a href="hello.py">Back to the form</a></p>'
    )


def handle(request: cgikit.Request) -> cgikit.Response:
    """Show the form, or greet the user who filled it in."""
    if request.method != "POST" and not request.fields:
        return cgikit.page("Hello", form())
    name = request.get("name").strip()
    happy, sad = request.has("happy"), request.has("sad")
    problem = cgikit.text_problem(name, "Your name", MAX_NAME, "Please enter your name.")
    if problem:
        return cgikit.page("Hello", form(name, happy, sad, problem), status=400)
    return cgikit.page(f"Hello, {name}", greeting(name, happy, sad))


def main() -> None:
    """Serve the request Apache started this script for."""
    cgikit.run(handle, exit_now=True)
