"""The partner docs, run as written against the local stack: every example is accepted, and the
ten-minute path of docs/start-here.md reaches a stored event and its derived rows."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import uuid
from typing import Any

import pytest

from tests.e2e.conftest import KEYS, ROOT
from tools.payload_docs import PAGES, examples

pytestmark = pytest.mark.e2e

WITHIN_SECONDS = 20
SHELL_BLOCK = re.compile(r"^```sh\n(?P<body>.*?)\n```", re.MULTILINE | re.DOTALL)


def test_every_payload_example_is_valid_and_then_accepted_in_page_order(http):
    sent = 0
    for category in ("client", "disbursement", "payment", "operation"):
        for title, event in examples((PAGES / f"{category}.md").read_text(encoding="utf-8")):
            status, _, checked = http("POST", "/validate", body=event, key=KEYS["docs"])
            assert status == 200 and checked["valid"], (category, title, checked)
            status, _, answer = http("POST", "/ingest", body=event, key=KEYS["docs"],
                                     headers={"Idempotency-Key": str(uuid.uuid4())})
            assert status == 200 and answer["status"] == "Success", (category, title, answer)
            assert checked["outcome"] == answer["step"]
            sent += 1
    assert sent >= 15


def test_the_changelog_migration_examples_do_what_it_says(http):
    """Retired categories are refused saying what to send; their replacements are accepted."""
    def send(event):
        return http("POST", "/ingest", body=event, key=KEYS["guide"], headers={"Idempotency-Key": str(uuid.uuid4())})

    assert send({"category": "client", "data": {"client_id": "L-1-C", "step": "create", "name": "Grace Hopper",
                                                "client_type": "individual"}})[0] == 200
    assert send({"category": "disbursement", "data": {
        "disbursement_id": "L-1", "step": "create", "kind": "loan", "client_id": "L-1-C", "disbursement_amount": 1700.5,
        "currency": "EUR", "total_expected_margin": 100, "disbursement_date": "2024-10-20",
        "maturity_date": "2024-12-20"}})[0] == 200
    changelog = examples((ROOT / "docs" / "changelog.md").read_text(encoding="utf-8"))
    assert [event["category"] for _, event in changelog] == ["schedule", "payment", "disbursement"]
    for _, event in changelog:
        status, _, answer = send(event)
        if event["category"] == "schedule":
            assert status == 422 and answer["type"].endswith("/deprecated-category")
            assert '"payment"' in answer["detail"] and "installment_number" in answer["detail"]
        else:
            assert status == 200 and answer["status"] == "Success", answer


def _run(block: str, base: str) -> Any:
    env = {**os.environ, "API": base, "KEY": KEYS["guide"]}
    done = subprocess.run(["bash", "-eu", "-c", block], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=True)
    return json.loads(done.stdout)


def _until(block: str, base: str, ready: Any) -> Any:
    """Run a read command until its answer shows what the worker derives asynchronously."""
    deadline = time.monotonic() + WITHIN_SECONDS
    while True:
        answer = _run(block, base)
        if ready(answer) or time.monotonic() > deadline:
            return answer
        time.sleep(0.2)


def test_the_ten_minute_path_of_start_here_runs_as_written(stack):
    guide = (ROOT / "docs" / "start-here.md").read_text(encoding="utf-8")
    blocks = [b["body"] for b in SHELL_BLOCK.finditer(guide) if "curl" in b["body"]]
    ingests = [b for b in blocks if "$API/ingest" in b]
    assert len(ingests) == 5

    for block in ingests:
        answer = _run(block, stack)
        assert answer["status"] == "Success", (block, answer)
        assert _run(block, stack)["status"] == "Duplicate"  # the same command again is a safe retry

    [record, statements, status_rows] = [b for b in blocks if "/api/tables/" in b]
    stored = _run(record, stack)
    assert stored.get("item", {}).get("disbursement_id") == "SH-L1", stored
    def figures(answer: Any) -> list[tuple[Any, Any]]:
        return [(s["debits"], s["credits"]) for s in answer.get("item", {}).get("statements", [])]

    # the worker derives the receipt after the schedule: wait for both, not just for two statements
    statement = _until(statements, stack, lambda a: figures(a) == [(648, 648), (648, 0)])
    assert figures(statement) == [(648, 648), (648, 0)]
    rows = _until(status_rows, stack, lambda a: "overdue" in {i["status"] for i in a.get("items", [])})["items"]
    assert {"ongoing", "overdue"} <= {row["status"] for row in rows}

    [check] = [b for b in blocks if "$API/validate" in b]
    problem = _run(check, stack)
    assert problem["status"] == 409 and "from paid to expected" in problem["detail"]


def test_validate_over_http_needs_a_key_with_the_ingest_scope(http):
    event = {"category": "client", "data": {"client_id": "V-1", "step": "create", "name": "Ada",
                                            "client_type": "individual"}}
    status, headers, problem = http("POST", "/validate", body=event, key=None)
    assert status == 401 and headers["WWW-Authenticate"].startswith("Bearer")
    status, _, problem = http("POST", "/validate", body=event, key=KEYS["reader"])
    assert status == 403 and problem["type"].endswith("/forbidden")
    status, _, answer = http("POST", "/validate", body=event, key=KEYS["guide"],
                             headers={"Idempotency-Key": "ignored"})
    assert status == 200 and answer["outcome"] == "create"
    assert http("GET", "/api/tables/clients/V-1", key=KEYS["guide"])[0] == 404


def test_the_validator_page_needs_no_key_and_loads_nothing_from_elsewhere(stack):
    import urllib.request

    with urllib.request.urlopen(stack + "/validator", timeout=30) as response:
        page = response.read().decode("utf-8")
        headers = response.headers
    assert headers["Content-Type"].startswith("text/html")
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "Create an individual client" in page  # the documented examples are offered
