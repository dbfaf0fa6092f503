#!/usr/bin/python3 -IS
"""Feedback form: a name, a mood and a message, stored in SQLite.

The code is cgi-bin/lib/feedback_form.py: byte-compiled at deploy time, not
compiled again on every request as a script is.
"""

import posix  # not os: importing os costs a fifth of the start-up (see cgikit)
import sys

sys.path.insert(0, posix.environ.get(b"CGIKIT_LIB", b"/usr/local/lib/apache-cgi-kit").decode())
import feedback_form

feedback_form.main()
