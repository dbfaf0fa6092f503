"""Dashboard: the stored feedback, newest first, paginated, with counts per mood.

Apache asks for a password before this script runs (Basic auth over the
role's password file); with no password configured it answers 403 to all.
"""

from __future__ import annotations

import cgikit
import kitstore

TYPE_CHECKING = False  # typing costs start-up time (see cgikit)
if TYPE_CHECKING:
    from kitstore import Row

__all__ = ["PER_PAGE", "handle", "main"]

PER_PAGE = 20
TITLE = "Dashboard"


def page_number(request: cgikit.Request) -> int:
    text = request.get("page", "1")
    if not (text.isascii() and text.isdigit() and len(text) <= 7 and int(text) >= 1):
        raise cgikit.HTTPError(400, "The page number must be a whole number from 1 to 9999999.")
    return int(text)


def counts_table(total: int, counts: dict[str, int]) -> str:
    cells = "".join(
        f'<tr><th scope="row">{mood.capitalize()}</th><td>{counts.get(mood, 0)}</td></tr>\n'
        for mood in kitstore.MOODS
    )
    return (
        "<table>\n<caption>Submissions per mood</caption>\n"
        '<thead><tr><th scope="col">Mood</th><th scope="col">Count</th></tr></thead>\n'
        f"<tbody>\n{cells}</tbody>\n"
        f'<tfoot><tr><th scope="row">All</th><td>{total}</td></tr></tfoot>\n</table>'
    )


def rows_table(rows: list[Row]) -> str:
    body = "".join(
        f'<tr><td><time datetime="{cgikit.escape(created)}">{cgikit.escape(created)}</time></td>'
        f"<td>{cgikit.escape(name)}</td><td>{cgikit.escape(mood)}</td>"
        f'<td class="message">{cgikit.escape(message)}</td></tr>\n'
        for _id, created, name, mood, message in rows
    )
    return (
        "<table>\n<caption>Feedback, newest first</caption>\n"
        '<thead><tr><th scope="col">Received (UTC)</th><th scope="col">Name</th>'
        '<th scope="col">Mood</th><th scope="col">Message</th></tr></thead>\n'
        f"<tbody>\n{body}</tbody>\n</table>"
    )


def pagination(number: int, total: int) -> str:
    pages = max(1, -(-total // PER_PAGE))
    links = []
    if number > 1:
        links.append(f'<a href="dashboard.py?page={number - 1}" rel="prev">Newer</a>')
    links.append(f"<span>Page {number} of {pages}</span>")
    if number < pages:
        links.append(f'<a href="dashboard.py?page={number + 1}" rel="next">Older</a>')
    return '<nav aria-label="Pages">' + " ".join(links) + "</nav>"


def handle(request: cgikit.Request) -> cgikit.Response:
    """One page of the dashboard."""
    number = page_number(request)
    try:
        rows, total, counts = kitstore.feedback_page(PER_PAGE, (number - 1) * PER_PAGE)
    except kitstore.StorageError:
        cgikit.log_exception()
        return cgikit.unavailable_page("The feedback can't be read just now.")
    if total == 0:
        body = (
            f"<h1>{TITLE}</h1>\n<p>No feedback yet. "
            '<a href="feedback.py">Be the first to send some.</a></p>'
        )
    elif not rows:
        raise cgikit.HTTPError(404, f"There is no page {number}.")
    else:
        body = (
            f"<h1>{TITLE}</h1>\n{counts_table(total, counts)}\n"
            f"{rows_table(rows)}\n{pagination(number, total)}"
        )
    return cgikit.page(TITLE, body)


def main() -> None:
    """Serve the request Apache started this script for."""
    cgikit.run(handle, methods=("GET", "HEAD"), exit_now=True)
