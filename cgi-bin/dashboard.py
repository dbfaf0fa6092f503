#!/usr/bin/python3 -IS
"""Dashboard: the stored feedback, newest first, with counts per mood.

The code is cgi-bin/lib/dashboard_view.py: byte-compiled at deploy time, not
compiled again on every request as a script is.
"""

import posix  # not os: importing os costs a fifth of the start-up (see cgikit)
import sys

sys.path.insert(0, posix.environ.get(b"CGIKIT_LIB", b"/usr/local/lib/apache-cgi-kit").decode())
import dashboard_view

dashboard_view.main()
