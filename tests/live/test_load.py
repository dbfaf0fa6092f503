"""Load: many concurrent submissions against one host, every one stored exactly once."""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import testinfra
from conftest import HTTPS_PORT, PROJECT, published_port, trusted_ca
from test_storage import stored

sys.path.insert(0, str(PROJECT / "scripts"))
import load_test

# Set by the scenario that runs the load (default: 2000 at concurrency 16).
REQUESTS = int(os.environ.get("KIT_LOAD_REQUESTS", "0"))
CONCURRENCY = int(os.environ.get("KIT_LOAD_CONCURRENCY", "16"))

if REQUESTS:

    def test_concurrent_posts_are_all_stored_once(pytestconfig):
        target = pytestconfig.getoption("hosts").split(",")[0]
        host = testinfra.get_host(target)
        name = f"load {uuid.uuid4().hex[:12]}"
        port = published_port(host.backend.get_hostname(), HTTPS_PORT)
        url = f"https://127.0.0.1:{port}/cgi-bin/feedback.py"
        result = load_test.run(url, REQUESTS, CONCURRENCY, name, trusted_ca(host))
        report = f"{target}\n{load_test.report(result)}"
        artifacts = Path(PROJECT / "artifacts")
        artifacts.mkdir(exist_ok=True)
        (artifacts / "load-test.txt").write_text(report)
        print(report)
        assert result["statuses"] == {"303": REQUESTS}
        assert stored(host, name) == REQUESTS
