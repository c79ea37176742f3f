"""Runs larger than one transaction over moto (docs/distributions.md, "Size and limits"): a crash
between their writes is completed by calculating again, with no duplicate or stray line; their
readers never depend on the lagging owner index; runs over the synchronous limit answer 202 and
are finished by an asynchronous invocation."""

from __future__ import annotations

import time
from collections import Counter
from decimal import Decimal
from typing import Any

import botocore.client
import pytest

from ledgerline import distributions as ops
from ledgerline import run_completion
from ledgerline.store import distributions as store
from tests.integration.test_distributions import CHECKER, ok

HOLDERS = 160  # more than LINES_IN_RUN_TRANSACTION: 7 BatchWriteItem calls of line items
AMOUNT = Decimal("1000.01")


@pytest.fixture
def api(call_distributions):
    return call_distributions


def register(api, holders=HOLDERS):
    ok(api("POST", "/api/assets", {"asset_id": "fund", "name": "Fund", "asset_type": "pool", "currency": "EUR"}), 201)
    rows = "".join(f"h{n:04d},Holder {n},DE89370400440532013000,{n % 7 + 1}\n" for n in range(holders))
    ok(api("POST", "/api/assets/fund/holders/import-csv", "holder_id,name,iban,units\n" + rows,
           headers={"Content-Type": "text/csv"}, query={"effective_date": "2025-01-01"}))
    ok(api("POST", "/api/assets/fund/cash-flow-events", {
        "cash_flow_event_id": "q1", "type": "interest", "amount": AMOUNT, "currency": "EUR",
        "record_date": "2025-03-31", "payment_date": "2025-04-15"}), 201)


def calculate(api):
    return api("POST", "/api/distributions/calculate", {"asset_id": "fund", "cash_flow_event_id": "q1"})


def stored_items(tables: Any, table: str, sort_key: str = "v0") -> list[dict[str, Any]]:
    """The current items (or guards: sort_key "guard") of one table, as stored."""
    items, start = [], {}
    while True:
        page = _scan(tables, start)
        items += [item for item in page["Items"] if item["PK"]["S"].split("#")[2] == table and item["SK"]["S"] == sort_key]
        if "LastEvaluatedKey" not in page:
            return items
        start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}


def _scan(tables: Any, start: dict[str, Any]) -> dict[str, Any]:
    from ledgerline.settings import get_settings

    return tables.scan(TableName=get_settings().records_table, **start)


def assert_one_complete_run(tables: Any, api, run_id: str) -> None:
    """Exactly the run's lines are stored, once each, and they sum to the amount."""
    lines = stored_items(tables, "distribution_lines")
    ids = Counter(item["id"]["S"] for item in lines)
    assert len(ids) == HOLDERS and set(ids.values()) == {1}
    assert {line_id.split(":")[0] for line_id in ids} == {run_id}
    assert sum(Decimal(item["record"]["M"]["amount"]["N"]) for item in lines) == AMOUNT
    assert {item["id"]["S"].split(":")[0] for item in stored_items(tables, "distribution_runs")} == {run_id}
    assert [guard["holder"]["S"] for guard in stored_items(tables, "live_runs", "guard")] == [run_id]
    run = ok(api("GET", f"/api/distribution-runs/{run_id}"))
    assert run["distribution_run"]["status"] == "calculated"
    assert sum(line["amount"] for line in run["distribution_lines"]) == AMOUNT


class Crash(Exception):
    """The function dies."""


def crash_on_write_call(monkeypatch: pytest.MonkeyPatch, number: int) -> None:
    """The `number`-th DynamoDB write call from now fails before it reaches the table, as if the
    function had died there."""
    real = botocore.client.BaseClient._make_api_call
    seen = [0]

    def call(self: Any, operation: str, params: dict[str, Any]) -> Any:
        if operation in ("TransactWriteItems", "BatchWriteItem"):
            seen[0] += 1
            if seen[0] == number:
                raise Crash(f"crash before write call {number} ({operation})")
        return real(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", call)


# Write calls of a 160-line calculation: 1 the run `calculating` with its chunk and guard,
# 2-8 the line items (25 a call), 9 the run `calculated` with its event.
@pytest.mark.parametrize("crash_at", [2, 5, 9])
def test_a_crash_between_writes_is_completed_by_calculating_again(api, tables, monkeypatch, crash_at):
    register(api)
    monkeypatch.setattr(store, "WRITERS", 1)  # one write call at a time, so the crash point is exact
    crash_on_write_call(monkeypatch, crash_at)
    assert calculate(api)[0] == 500  # the function died mid-way (here: its unexpected-error answer)
    monkeypatch.undo()

    [run_item] = stored_items(tables, "distribution_runs")
    run_id = run_item["id"]["S"]
    stuck = ok(api("GET", f"/api/distribution-runs/{run_id}"))
    assert stuck["distribution_run"]["status"] == "calculating"
    refused = api("POST", f"/api/distribution-runs/{run_id}/approve", **CHECKER)
    assert refused[0] == 409 and refused[2]["type"].endswith("/invalid-state")

    retried = ok(calculate(api), 201)
    assert retried["distribution_run"]["run_id"] == run_id
    assert retried["distribution_run"]["status"] == "calculated"
    assert len(retried["distribution_lines"]) == HOLDERS
    assert_one_complete_run(tables, api, run_id)
    # Calculating once more is the usual refusal: the event has a live run.
    again = calculate(api)
    assert again[0] == 409 and again[2]["errors"][0]["code"] == "live-run-exists"


def test_readers_of_a_run_never_wait_for_the_owner_index(api, tables, monkeypatch):
    """Approval, the payment file and notices right after calculation read the run's lines by
    key (consistent reads), so an index that has not caught up changes nothing."""
    register(api)
    run_id = ok(calculate(api), 201)["distribution_run"]["run_id"]
    real_group = store.group
    monkeypatch.setattr(store, "group", lambda tenant, table, group_id: [] if table == "distribution_lines"
                        else real_group(tenant, table, group_id))

    ok(api("POST", f"/api/distribution-runs/{run_id}/approve", **CHECKER))
    status, _, text = api("GET", f"/api/distribution-runs/{run_id}/payment-file")
    assert status == 200 and text.count("\n") == HOLDERS + 1
    notices = ok(api("POST", f"/api/distribution-runs/{run_id}/notices/generate"))["notices"]
    assert len(notices) == HOLDERS


def test_a_large_run_answers_202_and_is_finished_by_its_asynchronous_invocation(api, tables, monkeypatch):
    from functions.distributions.handler import handler
    from tests.builders import FakeLambdaContext

    register(api)
    monkeypatch.setattr(ops, "SYNC_LINES", 100)
    invocations: list[tuple[str, str, str, str]] = []
    monkeypatch.setattr(run_completion, "finish_later", lambda *args: invocations.append(args))

    accepted = ok(calculate(api), 202)
    run_id = accepted["distribution_run"]["run_id"]
    assert accepted["distribution_run"]["status"] == "calculating" and len(accepted["distribution_lines"]) == HOLDERS
    assert sum(line["amount"] for line in accepted["distribution_lines"]) == AMOUNT
    assert invocations == [("t1", run_id, "key_maker", invocations[0][3])]
    assert ok(api("GET", f"/api/distribution-runs/{run_id}"))["distribution_run"]["status"] == "calculating"
    refused = api("POST", f"/api/distribution-runs/{run_id}/approve", **CHECKER)
    assert refused[0] == 409 and refused[2]["type"].endswith("/invalid-state")

    payload = {"ledgerline": "finish-run", "tenant": "t1", "run_id": run_id, "key_id": "key_maker",
               "request_id": invocations[0][3]}
    assert handler(payload, FakeLambdaContext()) == {"run_id": run_id, "status": "calculated"}
    # Lambda may deliver an asynchronous invocation again: nothing changes.
    assert handler(payload, FakeLambdaContext()) == {"run_id": run_id, "status": "calculated"}
    assert_one_complete_run(tables, api, run_id)
    ok(api("POST", f"/api/distribution-runs/{run_id}/approve", **CHECKER))


def test_without_lambda_the_large_run_is_finished_in_the_background(api, tables, monkeypatch):
    register(api)
    monkeypatch.setattr(ops, "SYNC_LINES", 100)
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    run_id = ok(calculate(api), 202)["distribution_run"]["run_id"]
    deadline = time.monotonic() + 60
    while ok(api("GET", f"/api/distribution-runs/{run_id}"))["distribution_run"]["status"] == "calculating":
        assert time.monotonic() < deadline, "the background completion never finished"
        time.sleep(0.05)
    assert_one_complete_run(tables, api, run_id)


def test_on_lambda_the_function_invokes_itself_asynchronously(monkeypatch):
    calls: list[dict[str, Any]] = []

    class FakeLambda:
        def invoke(self, **arguments: Any) -> None:
            calls.append(arguments)

    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "ledgerline-distributions")
    monkeypatch.setattr(run_completion.aws, "client", lambda service: FakeLambda())
    run_completion.finish_later("t1", "run_1", "key_maker", "req-1")
    [call] = calls
    assert call["FunctionName"] == "ledgerline-distributions" and call["InvocationType"] == "Event"
    from ledgerline.domain.jsonio import loads

    assert loads(call["Payload"]) == {"ledgerline": "finish-run", "tenant": "t1", "run_id": "run_1",
                                      "key_id": "key_maker", "request_id": "req-1"}


def test_notices_of_a_large_run_are_generated_and_marked_sent_in_slices(api, tables, monkeypatch):
    register(api)
    run_id = ok(calculate(api), 201)["distribution_run"]["run_id"]
    ok(api("POST", f"/api/distribution-runs/{run_id}/approve", **CHECKER))
    monkeypatch.setattr(ops, "SYNC_LINES", 100)
    monkeypatch.setattr(ops, "NOTICES_PER_REQUEST", 70)

    for route, status in (("generate", "generated"), ("mark-sent", "sent")):
        seen: list[str] = []
        for expected_remaining in (90, 20, 0):
            answer = ok(api("POST", f"/api/distribution-runs/{run_id}/notices/{route}",
                            {} if route == "mark-sent" else None))
            assert answer["remaining"] == expected_remaining
            assert {notice["status"] for notice in answer["notices"]} == {status}
            seen += [notice["notice_id"] for notice in answer["notices"]]
        assert sorted(seen) == sorted(set(seen)) and len(seen) == HOLDERS
        # Once none remain, calling again changes nothing.
        assert ok(api("POST", f"/api/distribution-runs/{run_id}/notices/{route}",
                      {} if route == "mark-sent" else None)) == {"notices": [], "remaining": 0}
    notices = stored_items(tables, "notices")
    assert len(notices) == HOLDERS and {n["record"]["M"]["status"]["S"] for n in notices} == {"sent"}


def test_a_run_beyond_the_largest_first_transaction_is_refused_whole(api, tables, monkeypatch):
    register(api, holders=3)
    monkeypatch.setattr(ops, "MAX_RUN_LINES", 2)
    refused = calculate(api)
    assert refused[0] == 422 and [e["code"] for e in refused[2]["errors"]] == ["too-many-holders"]
    assert stored_items(tables, "distribution_runs") == [] and stored_items(tables, "live_runs", "guard") == []
    assert stored_items(tables, "distribution_lines") == []
