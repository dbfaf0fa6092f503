# The apache_cgi role's handler for persistent mode (roles/apache_cgi/files/wsgi/):
# mod_wsgi calls handle_request for each script of a site in wsgi mode, in the
# site's own processes, whose python-path is the site's helper folder: the
# cgikit imported here is the site's own.
#
# A deploy of new code writes the site's release mark (releases/<process group>);
# mod_wsgi asks reload_required before each request, and a process that loaded
# an older release hands the request back (Apache resends it to a fresh process)
# and ends once its own requests are done. No Apache reload is needed: a reload
# re-creates the processes' socket, and a request accepted in that moment would
# be answered 503.
import os

import mod_wsgi
from cgikit import handle_request

__all__ = ["handle_request", "reload_required"]

_MARK = os.path.join(os.path.dirname(__file__), "releases", mod_wsgi.process_group)


def _release() -> tuple[int, int, int] | None:
    """The release mark as the file system has it now (None before the first)."""
    try:
        mark = os.stat(_MARK)
    except OSError:
        return None
    return (mark.st_ino, mark.st_mtime_ns, mark.st_size)


_LOADED = _release()


def reload_required(resource: str) -> bool:
    """mod_wsgi's question before each request: is this process's code out of date?"""
    return _release() != _LOADED
