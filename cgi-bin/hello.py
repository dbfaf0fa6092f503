#!/usr/bin/python3 -IS
"""The classic hello form: a name and two checkboxes, greeted back.

The code is cgi-bin/lib/hello_form.py: byte-compiled at deploy time, not
compiled again on every request as a script is.
"""

import posix  # not os: importing os costs a fifth of the start-up (see cgikit)
import sys

sys.path.insert(0, posix.environ.get(b"CGIKIT_LIB", b"/usr/local/lib/apache-cgi-kit").decode())
import hello_form

hello_form.main()
