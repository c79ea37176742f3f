"""Webhooks over real HTTP: registered through the local stack, an ingested loan's events POSTed
to a loopback receiver, verified with the snippets of docs/webhooks.md as a partner would."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import uuid
from typing import Any

import pytest

from tests.e2e.conftest import KEYS, ROOT
from tests.webhook_receiver import receiver

pytestmark = pytest.mark.e2e

STATUS = "disbursement_status_update_outgoing"
DOC = (ROOT / "docs" / "webhooks.md").read_text(encoding="utf-8")


def snippet(language: str) -> str:
    [code] = re.findall(rf"^```{language}\n(.*?)\n```", DOC, re.MULTILINE | re.DOTALL)
    return code


def python_verify() -> Any:
    namespace: dict[str, Any] = {}
    exec(snippet("python"), namespace)  # noqa: S102 (the documented snippet, run as a partner would)
    return namespace["verify"]


def send_loan(http: Any, key: str) -> None:
    for event in ({"category": "client", "data": {"client_id": "WH-C1", "step": "create", "name": "Ada Lovelace",
                                                  "client_type": "individual"}},
                  {"category": "disbursement", "data": {
                      "disbursement_id": "WH-D1", "step": "create", "kind": "loan", "client_id": "WH-C1",
                      "disbursement_amount": 5000, "currency": "EUR", "total_expected_margin": 300,
                      "disbursement_date": "2024-10-20", "maturity_date": "2025-10-20"}}):
        status, _, answer = http("POST", "/ingest", body=event, key=key, headers={"Idempotency-Key": str(uuid.uuid4())})
        assert status == 200, answer


def logged(http: Any, webhook_id: str, key: str, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 20
    while True:
        status, _, page = http("GET", f"/api/webhooks/{webhook_id}/deliveries", key=key)
        assert status == 200, page
        if len(page["items"]) >= count or time.monotonic() > deadline:
            return page["items"]
        time.sleep(0.2)


def test_a_partner_receives_verifies_and_sees_its_deliveries(http, tmp_path):
    with receiver() as mine, receiver() as theirs:
        status, _, hook = http("POST", "/api/webhooks", key=KEYS["hooks"],
                               body={"url": mine.url, "events": [STATUS], "description": "e2e"})
        assert status == 201 and hook["secret"].startswith("whsec_"), hook
        status, _, other = http("POST", "/api/webhooks", key=KEYS["hooks-other"],
                                body={"url": theirs.url, "events": [STATUS]})
        assert status == 201
        send_loan(http, KEYS["hooks"])

        [got] = mine.wait_for(1)
        time.sleep(0.5)  # nothing else is on its way: the statement event is not subscribed
        assert len(mine.received) == 1 and theirs.received == []

    body = json.loads(got.body)
    assert body["name"] == STATUS and body["tenant"] == "hooks" and got.headers["Ledgerline-Event-Id"] == body["id"]
    header = got.headers["Ledgerline-Signature"]

    verify = python_verify()
    assert verify(hook["secret"], header, got.body)
    assert not verify(hook["secret"], header, got.body.replace(b"hooks", b"hacks"))
    assert not verify(other["secret"], header, got.body)

    if shutil.which("node"):
        (tmp_path / "verify.js").write_text(snippet("js"), encoding="utf-8")
        (tmp_path / "body.json").write_bytes(got.body)
        check = ("const {verify} = require(process.argv[1]); const fs = require('fs');"
                 "const ok = verify(process.argv[2], process.argv[3], fs.readFileSync(process.argv[4]));"
                 "process.stdout.write(String(ok));")
        for secret, expected in ((hook["secret"], "true"), (other["secret"], "false")):
            result = subprocess.run(["node", "-e", check, str(tmp_path / "verify.js"), secret, header,
                                     str(tmp_path / "body.json")], capture_output=True, text=True, timeout=30)
            assert result.stdout == expected, result.stderr

    [attempt] = logged(http, hook["webhook_id"], KEYS["hooks"], 1)
    assert (attempt["event_id"], attempt["attempt"], attempt["status_code"], attempt["outcome"]) == (
        body["id"], 1, 200, "delivered")
    status, _, listed = http("GET", "/api/webhooks", key=KEYS["hooks"])
    assert [w["webhook_id"] for w in listed["items"]] == [hook["webhook_id"]] and "secret" not in listed["items"][0]
    status, _, _ = http("GET", f"/api/webhooks/{hook['webhook_id']}/deliveries", key=KEYS["hooks-other"])
    assert status == 404


def test_a_private_address_is_refused_even_on_the_local_stack(http):
    status, _, problem = http("POST", "/api/webhooks", key=KEYS["hooks"],
                              body={"url": "http://10.1.2.3/hook", "events": [STATUS]})
    assert status == 422 and problem["type"].endswith("/validation-error")
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [("url", "refused-address")]
