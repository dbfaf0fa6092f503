"""A stand-in for pip's get-pip.py bootstrap script, for ansible-test's virtualenvs.

ansible-test downloads get-pip.py from a host of its own, which this machine can't
reach; scripts/test puts this file where ansible-test caches that script.  Run
the same way (``python get_pip.py PIP-INSTALL-ARGUMENTS``), it installs the pip
the interpreter bundles (ensurepip), then asks it for what get-pip would have
installed, with the machine's own pip configuration (its index or mirror, its
certificates), which ansible-test turns off with ``PIP_CONFIG_FILE=/dev/null``.
get-pip's own options (``--no-setuptools``, ``--no-wheel``) say what not to add;
pip install has no such options, and adds neither.
"""

import ensurepip
import os
import subprocess
import sys

GET_PIP_ONLY = ("--no-setuptools", "--no-wheel")

if __name__ == "__main__":
    ensurepip.bootstrap()
    arguments = [argument for argument in sys.argv[1:] if argument not in GET_PIP_ONLY]
    environment = {name: value for name, value in os.environ.items() if name != "PIP_CONFIG_FILE"}
    command = [sys.executable, "-m", "pip", "install", *arguments]
    sys.exit(subprocess.call(command, env=environment))
