"""`make demo` against the local stack: the seed loads, loads again without changing anything,
the worker derives the late payment, the write-off and the extension from its book, and the
distributions asset has its holders."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from ledgerline.demo import book
from tests.e2e.conftest import KEYS, Http, local_stack
from tools.demo import main

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def demo_stack() -> Iterator[str]:
    """A stack of its own: the book keeps its stream worker busy for a while, which must not
    delay the derived rows other tests wait for."""
    with local_stack() as base:
        yield base


def _demo(stack: str, capsys: pytest.CaptureFixture[str], key: str = KEYS["demo"]) -> tuple[int, str]:
    code = main(["--url", stack, "--key", key])
    return code, capsys.readouterr().out


def _items(http, path: str, until) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 30
    while True:
        status, _, body = http("GET", path, key=KEYS["demo"])
        items = body.get("items", []) if status == 200 else []
        if until(items) or time.monotonic() > deadline:
            return items
        time.sleep(0.2)


def test_make_demo_seeds_once_and_shows_a_late_loan_a_write_off_an_extension_and_holders(demo_stack, capsys):
    stack, http = demo_stack, Http(demo_stack)
    events = len(book())
    assert _demo(stack, capsys, KEYS["other"])[0] == 1  # a key without the distribute scope: refused, said so
    code, first = _demo(stack, capsys)
    assert code == 0 and f"a lending book of {events} events ({events} new)" in first
    assert "curl -s $API/api/tables/statements/DEMO-L2" in first and "/api/distributions/calculate" in first

    for hint in (line for line in first.splitlines() if line.strip().startswith("curl -s") and "-X" not in line):
        path = hint.split("$API", 1)[1].split()[0].strip('"')
        assert http("GET", path, key=KEYS["demo"])[0] == 200, hint  # every hint it prints works as printed
    status, _, before = http("GET", "/api/tables/disbursements/DEMO-L1/as-of/2026-08-31", key=KEYS["demo"])
    assert before["version"] == 1 and before["record"]["maturity_date"] == "2026-12-15"  # the loan as it stood before its extension

    code, again = _demo(stack, capsys)
    assert code == 0 and f"a lending book of {events} events (0 new)" in again

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
    status, _, holders = http("GET", "/api/assets/demo-fund/holders", key=KEYS["demo"])
    assert status == 200 and [h["holder_id"] for h in holders["items"]] == ["ana", "ben", "chen", "dora"]
