"""Dashboard: the stored feedback, newest first, paginated, with counts per mood, a
chart of submissions per day and mood (SVG made here: no script), a filter by mood and
dates, and the filtered rows as CSV (``format=csv``).

Apache asks for a password before this script runs (Basic auth over the
role's password file); with no password configured it answers 403 to all.
"""

from __future__ import annotations

import cgikit
import kitstore

TYPE_CHECKING = False  # typing costs start-up time (see cgikit)
if TYPE_CHECKING:
    from kitstore import Row

__all__ = ["CHART_DAYS", "PER_PAGE", "csv_cell", "handle", "main"]

PER_PAGE = 20
TITLE = "Dashboard"
#: The chart shows at most this many days (the latest with submissions).
CHART_DAYS = 31
# Each mood's fill in the chart: a pattern as well as a shade, so that the chart
# reads without colour (the legend shows each).
FILLS = {
    "delighted": "#1d4e89",
    "happy": "url(#kit-hatch)",
    "neutral": "url(#kit-dots)",
    "sad": "url(#kit-lines)",
    "angry": "url(#kit-cross)",
}
PATTERNS = (
    '<pattern id="kit-hatch" width="6" height="6" patternUnits="userSpaceOnUse">'
    '<rect width="6" height="6" fill="#bcd4ea"/><path d="M0 6 L6 0" stroke="#1d4e89"/></pattern>'
    '<pattern id="kit-dots" width="5" height="5" patternUnits="userSpaceOnUse">'
    '<rect width="5" height="5" fill="#eeeeee"/><circle cx="2.5" cy="2.5" r="1.2" fill="#333"/>'
    "</pattern>"
    '<pattern id="kit-lines" width="6" height="4" patternUnits="userSpaceOnUse">'
    '<rect width="6" height="4" fill="#f3d9b1"/><path d="M0 2 H6" stroke="#7a4a00"/></pattern>'
    '<pattern id="kit-cross" width="6" height="6" patternUnits="userSpaceOnUse">'
    '<rect width="6" height="6" fill="#f2c4c4"/><path d="M0 0 L6 6 M6 0 L0 6" stroke="#8b0000"/>'
    "</pattern>"
)


def page_number(request: cgikit.Request) -> int:
    text = request.get("page", "1")
    if not (text.isascii() and text.isdigit() and len(text) <= 7 and int(text) >= 1):
        raise cgikit.HTTPError(400, "The page number must be a whole number from 1 to 9999999.")
    return int(text)


def day_field(request: cgikit.Request, name: str) -> str:
    """A day, YYYY-MM-DD, or empty."""
    text = request.get(name)
    parts = text.split("-")
    if text and not (
        len(text) == 10
        and text.isascii()
        and len(parts) == 3
        and all(part.isdigit() for part in parts)
        and 1 <= int(parts[1]) <= 12
        and 1 <= int(parts[2]) <= 31
    ):
        raise cgikit.HTTPError(400, f"The field \u201c{name}\u201d must be a day like 2026-12-31.")
    return text


def shown_filter(request: cgikit.Request) -> kitstore.Filter:
    """The filter the request asks for (the form's fields: mood, from, to)."""
    mood = request.get("mood")
    if mood and mood not in kitstore.MOODS:
        raise cgikit.HTTPError(400, "The mood must be one of " + ", ".join(kitstore.MOODS) + ".")
    since, until = day_field(request, "from"), day_field(request, "to")
    if since and until and since > until:
        raise cgikit.HTTPError(400, "The first day must not be after the last.")
    return kitstore.Filter(mood, since, until)


def query(shown: kitstore.Filter, **more: str) -> str:
    """The query string that asks for this filter (and ``more``), escaped for an attribute."""
    pairs = [("mood", shown.mood), ("from", shown.since), ("to", shown.until), *more.items()]
    return cgikit.escape("&".join(f"{name}={value}" for name, value in pairs if value))


SELECTED = {True: " selected", False: ""}
DAY_INPUT = 'type="text" pattern="[0-9]{4}-[0-9]{2}-[0-9]{2}" placeholder="YYYY-MM-DD" size="10"'


def filter_form(shown: kitstore.Filter) -> str:
    options = "".join(
        f'<option value="{mood}"{SELECTED[mood == shown.mood]}>{mood.capitalize()}</option>'
        for mood in kitstore.MOODS
    )
    return (
        '<form method="get" action="dashboard.py" class="filter">\n'
        '<label for="mood">Mood</label> <select id="mood" name="mood">'
        f'<option value="">All</option>{options}</select>\n'
        '<label for="from">From</label> '
        f'<input id="from" name="from" {DAY_INPUT} value="{shown.since}">\n'
        f'<label for="to">To</label> <input id="to" name="to" {DAY_INPUT} value="{shown.until}">\n'
        '<button type="submit">Show</button>\n'
        f'<a href="dashboard.py?{query(shown, format="csv")}" download>Export CSV</a>\n</form>'
    )


def chart(days: list[tuple[str, str, int]]) -> str:
    """Submissions per day and mood as stacked bars: an SVG image with a legend."""
    per_day: dict[str, dict[str, int]] = {}
    for day, mood, count in days:
        per_day.setdefault(day, {})[mood] = count
    shown = sorted(per_day)[-CHART_DAYS:]
    top = max(sum(per_day[day].values()) for day in shown)
    width, bar_width, height = 40 + 28 * len(shown), 20, 160
    bars = []
    for index, day in enumerate(shown):
        x, y = 40 + 28 * index, float(20 + height)
        for mood in kitstore.MOODS:
            count = per_day[day].get(mood, 0)
            if count:
                size = count * height / top
                y -= size
                bars.append(
                    f'<rect x="{x}" y="{y:.1f}" width="{bar_width}" height="{size:.1f}" '
                    f'fill="{FILLS[mood]}" stroke="#222" stroke-width="0.5">'
                    f"<title>{day}: {mood} {count}</title></rect>"
                )
        total = sum(per_day[day].values())
        middle = x + bar_width / 2
        bars.append(f'<text x="{middle}" y="{y - 4:.1f}" text-anchor="middle">{total}</text>')
        bars.append(f'<text x="{middle}" y="{height + 36}" text-anchor="middle">{day[5:]}</text>')
    legend = "".join(
        f'<li><svg width="14" height="14" aria-hidden="true">'
        f'<rect width="14" height="14" fill="{FILLS[mood]}" stroke="#222"/></svg> '
        f"{mood.capitalize()}</li>"
        for mood in kitstore.MOODS
    )
    span = f"{shown[0]} to {shown[-1]}" if len(shown) > 1 else shown[0]
    return (
        f'<figure>\n<svg class="chart" viewBox="0 0 {width} {height + 44}" width="{width}" '
        f'height="{height + 44}" role="img" aria-labelledby="kit-chart-title" font-size="10">'
        f'<title id="kit-chart-title">Submissions per day and mood, {span}</title>'
        f"<defs>{PATTERNS}</defs>"
        f'<line x1="36" y1="{20 + height}" x2="{width}" y2="{20 + height}" stroke="#222"/>'
        + "".join(bars)
        + f'</svg>\n<ul class="legend">{legend}</ul>\n'
        f"<figcaption>Submissions per day (UTC), {span}, by mood "
        f"(the total above each day)</figcaption>\n</figure>"
    )


def csv_cell(value: object) -> str:
    """One CSV field (RFC 4180), text that a spreadsheet would take for a formula
    (=, +, -, @, a tab or a CR first) made plain text by a leading apostrophe."""
    text = str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    if any(character in text for character in ',"\r\n'):
        text = '"' + text.replace('"', '""') + '"'
    return text


def csv_export(shown: kitstore.Filter) -> cgikit.Response:
    """The filtered submissions, oldest first, as a CSV download."""
    rows = kitstore.feedback_rows(shown)
    lines = ["id,received_utc,name,mood,message"]
    lines += [",".join(csv_cell(value) for value in row) for row in rows]
    name = "feedback" + "".join(
        f"-{part}" for part in (shown.mood, shown.since, shown.until) if part
    )
    return cgikit.Response(
        "\r\n".join(lines) + "\r\n",
        content_type="text/csv; charset=utf-8; header=present",
        headers=[
            ("Content-Disposition", f'attachment; filename="{name}.csv"'),
            ("Cache-Control", "no-store"),
        ],
    )


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


def pagination(number: int, total: int, shown: kitstore.Filter) -> str:
    pages = max(1, -(-total // PER_PAGE))
    links = []
    if number > 1:
        links.append(
            f'<a href="dashboard.py?{query(shown, page=str(number - 1))}" rel="prev">Newer</a>'
        )
    links.append(f"<span>Page {number} of {pages}</span>")
    if number < pages:
        links.append(
            f'<a href="dashboard.py?{query(shown, page=str(number + 1))}" rel="next">Older</a>'
        )
    return '<nav aria-label="Pages">' + " ".join(links) + "</nav>"


def handle(request: cgikit.Request) -> cgikit.Response:
    """One page of the dashboard, or its CSV export."""
    number = page_number(request)
    shown = shown_filter(request)
    export = request.get("format")
    if export not in ("", "csv"):
        raise cgikit.HTTPError(400, "The only export format is csv.")
    try:
        if export:
            return csv_export(shown)
        rows, total, counts, days = kitstore.feedback_page(PER_PAGE, (number - 1) * PER_PAGE, shown)
    except kitstore.StorageError:
        cgikit.log_exception()
        return cgikit.unavailable_page("The feedback can't be read just now.")
    filtered = bool(shown.mood or shown.since or shown.until)
    if total == 0 and not filtered:
        body = (
            f"<h1>{TITLE}</h1>\n<p>No feedback yet. "
            '<a href="feedback.py">Be the first to send some.</a></p>'
        )
    elif total == 0:
        body = f"<h1>{TITLE}</h1>\n{filter_form(shown)}\n<p>No feedback matches this filter.</p>"
    elif not rows:
        raise cgikit.HTTPError(404, f"There is no page {number}.")
    else:
        body = (
            f"<h1>{TITLE}</h1>\n{filter_form(shown)}\n{chart(days)}\n"
            f"{counts_table(total, counts)}\n{rows_table(rows)}\n{pagination(number, total, shown)}"
        )
    return cgikit.page(TITLE, body)


def main() -> None:
    """Serve the request Apache started this script for."""
    cgikit.run(handle, methods=("GET", "HEAD"), exit_now=True)
