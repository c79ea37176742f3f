"""Start the local stack (`python -m local`) once per session and talk to it over real HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
KEYS = {"acme": "key-acme-0001", "other": "key-other-0001", "reader": "key-reader-0001",
        "fuzz": "key-fuzz-0001",  # a tenant of its own for the schemathesis run
        # tenants of their own for the documented examples and the validator page
        "docs": "key-docs-0001", "guide": "key-guide-0001", "browser": "key-browser-0001", "demo": "key-demo-0001",
        "ingester": "key-ingester-0001",  # a second key of acme's, ingest scope only
        "maker": "key-maker-0001", "checker": "key-checker-0001",  # acme's distribution keys
        "hooks": "key-hooks-0001", "hooks-other": "key-hooks-other-0001"}  # webhook tenants
# Keys whose tenant or scopes differ from the default (tenant = the name, ingest + read).
TENANT_SCOPES = {"reader": ("reader", ":read"), "ingester": ("acme", ":ingest"),
                 "maker": ("acme", ":read+distribute"), "checker": ("acme", ":read+approve"),
                 "demo": ("demo", ":ingest+read+distribute")}  # what `make run` prints for `make demo`


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def local_stack() -> Iterator[str]:
    """`python -m local` on a free port, with the test keys; yields its base URL."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LEDGERLINE_", "POWERTOOLS_"))}
    env.update(PORT=str(port), PYTHONUNBUFFERED="1",
               LEDGERLINE_API_KEYS=",".join(f"{TENANT_SCOPES.get(name, (name, ''))[0]}:{key}"
                                            + TENANT_SCOPES.get(name, (name, ""))[1]
                                            for name, key in KEYS.items()))
    process = subprocess.Popen([sys.executable, "-m", "local"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    output = []
    deadline = time.monotonic() + 90
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        output.append(line)
        if "Ready." in line:
            break
        if not line and process.poll() is not None:
            raise RuntimeError("local stack exited:\n" + "".join(output))
    else:
        process.kill()
        raise RuntimeError("local stack did not start:\n" + "".join(output))
    # Keep draining its log so the pipe never fills up.
    import threading

    threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()
    yield f"http://127.0.0.1:{port}"
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def stack() -> Iterator[str]:
    with local_stack() as base:
        yield base


class Http:
    def __init__(self, base: str) -> None:
        self.base = base

    def __call__(self, method: str, path: str, *, body: Any = None, key: str | None = KEYS["acme"],
                 headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
        data = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if key:
            request.add_header("Authorization", f"Bearer {key}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, raw, out = response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as error:
            status, raw, out = error.code, error.read(), dict(error.headers)
        if out.get("Content-Type", "").startswith("text/"):
            return status, out, raw.decode("utf-8")
        return status, out, json.loads(raw) if raw else None


@pytest.fixture(scope="session")
def http(stack: str) -> Http:
    return Http(stack)
