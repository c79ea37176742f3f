"""`make demo` against the local stack: the book loads, loads again without changing anything,
and the worker derives the late payment, the write-off and the extension from it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from local.demo import book
from tests.e2e.conftest import KEYS, ROOT, Http, local_stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def demo_stack() -> Iterator[str]:
    """A stack of its own: the book keeps its stream worker busy for a while, which must not
    delay the derived rows other tests wait for."""
    with local_stack() as base:
        yield base


def _demo(stack: str) -> str:
    env = {**os.environ, "PORT": str(urlsplit(stack).port), "KEY": KEYS["demo"],
           "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "core" / "python"), str(ROOT)])}
    return subprocess.run([sys.executable, "-m", "local.demo"], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=True).stdout


def _items(http, path: str, until) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 30
    while True:
        status, _, body = http("GET", path, key=KEYS["demo"])
        items = body.get("items", []) if status == 200 else []
        if until(items) or time.monotonic() > deadline:
            return items
        time.sleep(0.2)


def test_the_demo_book_loads_once_and_shows_a_late_loan_a_write_off_and_an_extension(demo_stack):
    stack, http = demo_stack, Http(demo_stack)
    events = len(book())
    first = _demo(stack)
    assert f"{events} events, {events} Success" in first
    assert "curl -s $API/api/tables/statements/DEMO-L2" in first

    again = _demo(stack)
    assert f"{events} events, {events} Duplicate" in again

    statuses = _items(http, "/api/tables/disbursement_status?disbursement_id=DEMO-L2",
                      lambda rows: "overdue" in {r["status"] for r in rows})
    assert "overdue" in {row["status"] for row in statuses}
    statuses = _items(http, "/api/tables/disbursement_status?disbursement_id=DEMO-L3",
                      lambda rows: "written_off" in {r["status"] for r in rows})
    assert "written_off" in {row["status"] for row in statuses}
    assert _items(http, "/api/tables/write_offs?disbursement_id=DEMO-L3", bool)
    assert _items(http, "/api/tables/extensions?disbursement_id=DEMO-L1", bool)
    status, _, clients = http("GET", "/api/tables/clients", key=KEYS["demo"])
    assert status == 200 and len(clients["items"]) == 5
    status, _, purchases = http("GET", "/api/tables/purchase_clients", key=KEYS["demo"])
    assert len(purchases["items"]) == 3
