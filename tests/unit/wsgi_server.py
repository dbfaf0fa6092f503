"""A WSGI server for the unit tests of persistent mode: the standard library's
wsgiref, one thread per request, serving every script of a folder through
``cgikit.handle_request`` as mod_wsgi's handler does.

Run as ``python -I wsgi_server.py SCRIPTS_DIR LIB_DIR DB``; it prints its port,
then serves until killed.  Each request gets what Apache's configuration gives
it: ``SCRIPT_FILENAME`` and the ``CGIKIT_*`` settings; its ``wsgi.errors`` (the
site's error log under mod_wsgi) is this process's stdout, after the port, so
that a test can tell it from stderr (the server's own log).
"""

from __future__ import annotations

import sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.validate import validator

scripts, lib, database = sys.argv[1:4]
sys.path.insert(0, lib)
import cgikit  # noqa: E402 - the helper folder first


class Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 256


class Handler(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:  # the tests read stderr for tracebacks only
        pass


def site(environ: dict, start_response):  # a WSGI application
    """Map /cgi-bin/NAME to the script file, as the kit's configuration does."""
    name = environ["PATH_INFO"].rpartition("/")[2]
    environ.update(
        SCRIPT_FILENAME=f"{scripts}/{name}",
        CGIKIT_LIB=lib,
        CGIKIT_DB=database,
        CGIKIT_MAX_BODY="65536",
    )
    environ["wsgi.errors"] = sys.stdout
    return cgikit.handle_request(environ, start_response)


server = make_server("127.0.0.1", 0, validator(site), Server, Handler)
print(server.server_port, flush=True)
server.serve_forever()
