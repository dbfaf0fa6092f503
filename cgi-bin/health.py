#!/usr/bin/python3 -IS
"""Health check for monitors: JSON, 200 when the database can be written, 503 if not.

The code is cgi-bin/lib/health_check.py: byte-compiled at deploy time, not
compiled again on every request as a script is.
"""

import posix  # not os: importing os costs a fifth of the start-up (see cgikit)
import sys

sys.path.insert(0, posix.environ.get(b"CGIKIT_LIB", b"/usr/local/lib/apache-cgi-kit").decode())
import health_check

health_check.main()
