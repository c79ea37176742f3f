"""POST /ingest through the real handler over moto: storage, idempotency, isolation, failures."""

from __future__ import annotations

import datetime as dt
import threading
from types import SimpleNamespace
from typing import Any

import pytest
from aws_lambda_powertools.utilities.idempotency.persistence import dynamodb as powertools_dynamodb
from botocore.exceptions import ClientError

from ledgerline.api.problems import PROBLEMS
from ledgerline.domain.errors import DomainError
from ledgerline.domain.tables import READABLE
from ledgerline.ingest import IngestRequest
from ledgerline.store import reads, records
from tests.builders import FakeLambdaContext, client, loan, payment

TABLE = "ledgerline-records-test"


def items(dynamodb: Any) -> list[dict[str, Any]]:
    return dynamodb.scan(TableName=TABLE)["Items"]


def keys_of(dynamodb: Any) -> set[tuple[str, str]]:
    return {(i["PK"]["S"], i["SK"]["S"]) for i in items(dynamodb)}


def versions(dynamodb: Any, pk: str) -> list[dict[str, Any]]:
    """The versions of a record as history reads them (version items, and the current item's own)."""
    _, tenant, table, record_id = pk.split("#", 3)
    return reads.record_versions(tenant, table, record_id) or []


def version_items(dynamodb: Any, pk: str) -> list[dict[str, Any]]:
    """A record's version items as stored (not its current item)."""
    found = dynamodb.query(TableName=TABLE, KeyConditionExpression="PK = :p AND begins_with(SK, :v)",
                           ExpressionAttributeValues={":p": {"S": pk}, ":v": {"S": "v00"}})["Items"]
    return [records.from_attributes(i) for i in found]


def seed(call_ingest) -> None:
    assert call_ingest(client())[0] == 200
    assert call_ingest(loan())[0] == 200


# success and storage ----------------------------------------------------------------------


def test_first_event_is_one_record_item_and_an_ingested_row(call_ingest, call_tables, tables):
    status, headers, body = call_ingest(client(email="ada@example.com"), key="k-1")

    assert status == 200
    assert body["status"] == "Success" and body["version"] == 1 and body["step"] == "create"
    assert body["event_id"].startswith("ev_") and headers["X-Request-Id"]
    # The current item holds version 1: no version item until a second version supersedes it.
    assert keys_of(tables) == {("T#t1#clients#C1", "v0"), (f"T#t1#ingested_events#{body['event_id']}", "v0")}
    _, _, read = call_tables("/api/tables/clients/C1/history")
    [version] = read["history"]
    assert version["version"] == 1 and version["previous_version"] is None
    assert version["changed_by"] == "key_test" and version["event_id"] == body["event_id"]
    assert version["changes"] == sorted(["client_id", "name", "client_type", "email", "deleted"])


def test_a_second_version_stores_the_first_as_it_was(call_ingest, call_tables, tables):
    first = call_ingest(client(email="ada@example.com"), key="k-1")[2]
    _, _, before = call_tables("/api/tables/clients/C1/history")

    second = call_ingest(client(step="update", email="ada@example.org"), key="k-2")[2]

    assert second["version"] == 2
    [stored] = version_items(tables, "T#t1#clients#C1")  # version 1's own item, a copy of what the current item said
    assert stored["version"] == 1 and stored["event_id"] == first["event_id"] and stored["changed_by"] == "key_test"
    assert stored["record"]["email"] == "ada@example.com" and stored["previous_version"] is None
    _, _, after = call_tables("/api/tables/clients/C1/history")
    assert after["total_versions"] == 2
    old = after["history"][1]
    ends = {"system_to": None, "valid_to": None}  # closed by version 2
    assert {**old, **ends} == {**before["history"][0], **ends}
    assert after["history"][0]["changes"] == ["email"] and after["history"][0]["previous_version"] == 1


def test_stored_record_is_readable_and_tenant_scoped(call_ingest, call_tables):
    call_ingest(client(country="DE"))

    status, _, body = call_tables("/api/tables/clients/C1")
    assert status == 200 and body["item"]["country"] == "DE" and body["item"]["version"] == 1

    status, _, problem = call_tables("/api/tables/clients/C1", tenant="t2")
    assert status == 404 and problem["type"].endswith("/problems/not-found")


def test_unknown_table_is_404_listing_the_readable_tables(call_tables):
    status, _, problem = call_tables("/api/tables/secrets/x")
    assert status == 404 and "clients" in problem["tables"] and len(problem["tables"]) == len(READABLE)


def test_money_is_kept_exactly(call_ingest, call_tables):
    seed(call_ingest)
    call_ingest(payment(amount=__import__("decimal").Decimal("999999999999.9999"), installment_number=None))
    _, _, body = call_tables("/api/tables/payments/PM1")
    assert str(body["item"]["amount"]) == "999999999999.9999"


def test_update_that_changes_nothing_answers_unchanged_and_stores_no_version(call_ingest, tables):
    call_ingest(client(country="DE"))
    before = keys_of(tables)

    status, _, body = call_ingest(client(step="update", country="DE"))

    assert status == 200 and body["status"] == "Unchanged" and body["version"] == 1
    new = keys_of(tables) - before
    assert all(pk.startswith("T#t1#ingested_events#") for pk, _ in new)  # only the event log row
    assert len(versions(tables, "T#t1#clients#C1")) == 1


def test_purchase_clients_rows_are_written_with_the_disbursement(call_ingest, call_tables):
    from tests.builders import purchase

    call_ingest(client("C2"))
    call_ingest(client())
    status, _, _ = call_ingest(purchase(purchase_clients=[{"client_id": "C1", "share": 0.5},
                                                          {"client_id": "C2"}]))
    assert status == 200
    _, _, row = call_tables("/api/tables/purchase_clients/P1~C2")
    assert row["item"]["disbursement_id"] == "P1" and "share" not in row["item"]

    call_ingest(purchase(step="update", purchase_clients=[{"client_id": "C1"}]))
    _, _, row = call_tables("/api/tables/purchase_clients/P1~C2")
    assert row["item"]["deleted"] is True and row["item"]["version"] == 2


def test_client_with_open_disbursement_cannot_be_deleted_until_the_disbursement_is(call_ingest):
    seed(call_ingest)
    status, _, problem = call_ingest(client(step="delete"))
    assert status == 409 and problem["type"].endswith("/problems/conflict")

    assert call_ingest(loan(step="delete"))[0] == 200
    status, _, body = call_ingest(client(step="delete"))
    assert status == 200 and body["step"] == "delete"


def test_installment_number_is_unique_until_canceled(call_ingest):
    seed(call_ingest)
    assert call_ingest(payment("PM1"))[0] == 200
    status, _, problem = call_ingest(payment("PM2"))
    assert status == 422 and problem["errors"][0]["code"] == "duplicate"

    assert call_ingest(payment("PM1", status="canceled"))[0] == 200
    assert call_ingest(payment("PM2"))[2]["status"] == "Success"


# idempotency ------------------------------------------------------------------------------


def test_replay_with_the_same_key_and_body_answers_duplicate_and_stores_nothing(call_ingest, tables):
    _, _, first = call_ingest(client(), key="same")
    before = keys_of(tables)

    status, headers, again = call_ingest(client(), key="same")

    assert status == 200 and headers.get("Idempotent-Replayed") == "true"
    assert again == {**first, "status": "Duplicate"}
    assert keys_of(tables) == before


def test_same_key_with_a_different_body_is_refused(call_ingest):
    call_ingest(client(), key="same")
    status, _, problem = call_ingest(client(name="Someone else"), key="same")
    assert status == 422 and problem["type"].endswith("/problems/idempotency-key-reused")


def test_idempotency_keys_are_scoped_per_tenant(call_ingest):
    _, _, first = call_ingest(client(), key="shared", tenant="t1")
    status, headers, second = call_ingest(client(), key="shared", tenant="t2")
    assert status == 200 and second["status"] == "Success" and "Idempotent-Replayed" not in headers
    assert second["event_id"] != first["event_id"]


def test_a_refused_request_does_not_burn_its_key(call_ingest):
    status, _, _ = call_ingest(client(client_type="robot"), key="retry-me")
    assert status == 422
    status, _, body = call_ingest(client(), key="retry-me")
    assert status == 200 and body["status"] == "Success"


def test_missing_idempotency_key_is_400(call_ingest):
    status, _, problem = call_ingest(client(), key="")
    assert status == 400 and problem["type"].endswith("/problems/idempotency-key-missing")


def _environments(count: int) -> list[Any]:
    """Independent copies of the ingest routes module, like separate Lambda environments.

    Powertools' resolver keeps the current HTTP event in process-wide state, so a process
    serves one HTTP request at a time (as a Lambda environment does). Concurrency is
    therefore driven through `submit`, the idempotent path below the resolver, with each
    thread in its own copy (own idempotency config and persistence layer).
    """
    import importlib.util

    from ledgerline.api import ingest_routes

    copies = []
    for i in range(count):
        spec = importlib.util.spec_from_file_location(f"ingest_routes_env_{i}", ingest_routes.__file__)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        copies.append(module)
    return copies


def _submit(environment: Any, request: IngestRequest) -> tuple[int, str]:
    environment.IDEMPOTENCY.register_lambda_context(FakeLambdaContext())
    try:
        return 200, environment.submit(request)["status"]
    except DomainError as error:
        return PROBLEMS[error.problem][0], error.problem


def _race(count: int, request_for: Any) -> list[tuple[int, str]]:
    environments = _environments(count)
    barrier = threading.Barrier(count)
    answers: list[tuple[int, str]] = []

    def send(i: int) -> None:
        request = request_for(i)
        barrier.wait()
        answers.append(_submit(environments[i], request))

    threads = [threading.Thread(target=send, args=(i,)) for i in range(count)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    return answers


def test_ten_concurrent_requests_with_one_key_apply_once(tables):
    answers = _race(10, lambda i: IngestRequest("t1", "key_test", "burst", client()))

    assert answers.count((200, "Success")) == 1
    assert all(a in ((200, "Success"), (200, "Duplicate"), (409, "request-in-progress")) for a in answers), answers
    assert len(versions(tables, "T#t1#clients#C1")) == 1


def test_twenty_concurrent_updates_make_contiguous_versions_and_lose_nothing(call_ingest, tables):
    seed(call_ingest)

    def update(i: int) -> IngestRequest:
        field = {"bank_ref": f"ref-{i}"} if i % 2 else {"pledge_creditor": f"creditor-{i}"}
        return IngestRequest("t1", "key_test", f"u-{i}", loan(step="update", **field))

    answers = _race(20, update)

    assert answers == [(200, "Success")] * 20
    history = sorted(versions(tables, "T#t1#disbursements#D1"), key=lambda v: v["version"])
    assert [v["version"] for v in history] == list(range(1, 22))
    # Every version is exactly its predecessor plus its own event's change: no update was lost.
    events = {i["id"]["S"]: records.from_attributes(i)["record"] for i in items(tables)
              if i["PK"]["S"].startswith("T#t1#ingested_events#")}
    meta = ("version", "created_at", "updated_at")
    for before, after in zip(history, history[1:]):
        sent = events[after["event_id"]]["request"]["data"]
        expected = {**{k: v for k, v in before["record"].items() if k not in meta},
                    **{k: v for k, v in sent.items() if k != "step"}}
        assert {k: v for k, v in after["record"].items() if k not in meta} == expected


# crashes and storage failures -------------------------------------------------------------


def clock_ahead(seconds: float) -> SimpleNamespace:
    """A `datetime` module whose clock runs `seconds` ahead, for Powertools' idempotency store."""
    class Later(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> dt.datetime:
            return dt.datetime.now(tz) + dt.timedelta(seconds=seconds)

    return SimpleNamespace(datetime=Later, timedelta=dt.timedelta)


class Crash(BaseException):
    """Stands for the Lambda environment dying: not an Exception, so nothing cleans up."""


def test_crash_after_commit_is_answered_from_the_stored_event_on_retry(call_ingest, tables, monkeypatch):
    real_commit = records.commit

    def commit_then_die(*args: Any, **kwargs: Any) -> str:
        real_commit(*args, **kwargs)
        raise Crash()

    monkeypatch.setattr(records, "commit", commit_then_die)
    with pytest.raises(Crash):
        call_ingest(client(), key="crashy", context=FakeLambdaContext(remaining_ms=60_000))
    stored_after_crash = keys_of(tables)
    monkeypatch.setattr(records, "commit", real_commit)

    # While the crashed invocation could still be running, the key is busy.
    status, headers, problem = call_ingest(client(), key="crashy")
    assert status == 409 and problem["type"].endswith("/problems/request-in-progress")
    assert headers["Retry-After"] == "1"

    monkeypatch.setattr(powertools_dynamodb, "dt", clock_ahead(seconds=61))  # the crashed invocation's time is up
    status, _, body = call_ingest(client(), key="crashy")
    assert status == 200 and body["status"] == "Duplicate" and body["version"] == 1
    [row] = [pk for pk, _ in stored_after_crash if pk.startswith("T#t1#ingested_events#")]
    assert row.endswith(body["event_id"])
    assert keys_of(tables) == stored_after_crash


def test_storage_error_mid_request_is_a_500_problem_and_writes_nothing(call_ingest, tables, monkeypatch):
    from ledgerline import aws

    real_client = aws.dynamodb()
    before = keys_of(tables)

    class FailingClient:
        def __getattr__(self, name: str) -> Any:
            return getattr(real_client, name)

        def transact_write_items(self, **_: Any) -> Any:
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "boom"}}, "TransactWriteItems")

    monkeypatch.setattr(aws, "dynamodb", lambda: FailingClient())
    status, headers, problem = call_ingest(client(), key="fails")
    monkeypatch.undo()

    assert status == 500 and problem["type"].endswith("/problems/internal-error")
    assert "boom" not in problem["detail"] and "Traceback" not in str(problem)
    assert problem["instance"] == headers["X-Request-Id"]
    assert keys_of(tables) == before
    status, _, body = call_ingest(client(), key="fails")  # the key was not burned
    assert status == 200 and body["status"] == "Success"


# tenants and scopes -----------------------------------------------------------------------


def test_another_tenants_ids_are_unknown(call_ingest):
    call_ingest(client(), tenant="t1")
    status, _, problem = call_ingest(client(step="update", name="x"), tenant="t2")
    assert status == 422 and problem["type"].endswith("/problems/unknown-reference")
    status, _, body = call_ingest(client(), tenant="t2")  # same id, separate namespace
    assert status == 200 and body["status"] == "Success"


def test_a_read_only_key_cannot_ingest(call_ingest, tables):
    status, _, problem = call_ingest(client(), scopes="read")
    assert status == 403 and problem["type"].endswith("/problems/forbidden")
    assert items(tables) == []


def test_an_ingest_only_key_cannot_read(call_ingest, call_tables):
    call_ingest(client())
    status, _, problem = call_tables("/api/tables/clients/C1", scopes="ingest")
    assert status == 403 and problem["type"].endswith("/problems/forbidden")


def test_a_client_delete_racing_a_new_disbursement_is_refused_at_commit(call_ingest, tables):
    """The delete decided while the client had no disbursements must not commit once one links to it."""
    from ledgerline.domain.category import Ref
    from ledgerline.domain.envelope import parse_event

    call_ingest(client())
    event = parse_event(client(step="delete"))
    target = Ref("clients", "C1")
    loaded = records.load("t1", "ev_race", target, [])
    stale = event.category.decide(event.parsed, loaded.current, loaded.refs, loaded.links)
    assert stale.require_no_links and loaded.links == 0

    assert call_ingest(loan())[0] == 200  # meanwhile a disbursement links to the client

    context = records.EventContext("t1", "ev_race", "key_test", None)
    with pytest.raises(records.WriteConflict):
        records.commit(context, stale, target, {"event_id": "ev_race"}, {}, loaded.items)
    _, _, still_there = call_ingest(client(step="update", country="DE"))
    assert still_there["status"] == "Success"


def test_a_payment_racing_the_deletion_of_its_disbursement_is_refused_at_commit(call_ingest):
    from ledgerline.domain.category import Ref
    from ledgerline.domain.envelope import parse_event

    seed(call_ingest)
    event = parse_event(payment())
    target = Ref("payments", "PM1")
    loaded = records.load("t1", "ev_race", target, event.category.references(event.parsed, None))
    stale = event.category.decide(event.parsed, loaded.current, loaded.refs, loaded.links)

    assert call_ingest(loan(step="delete"))[0] == 200  # meanwhile the disbursement goes away

    context = records.EventContext("t1", "ev_race", "key_test", None)
    with pytest.raises(records.WriteConflict):
        records.commit(context, stale, target, {"event_id": "ev_race"}, {}, loaded.items)


def test_two_payments_racing_for_one_installment_number_cannot_both_commit(call_ingest):
    from ledgerline.domain.category import Ref
    from ledgerline.domain.envelope import parse_event

    seed(call_ingest)
    event = parse_event(payment("PM2"))
    target = Ref("payments", "PM2")
    loaded = records.load("t1", "ev_race", target, event.category.references(event.parsed, None))
    stale = event.category.decide(event.parsed, loaded.current, loaded.refs, loaded.links)

    assert call_ingest(payment("PM1"))[2]["status"] == "Success"  # claims installment 1 first

    context = records.EventContext("t1", "ev_race", "key_test", None)
    with pytest.raises(records.WriteConflict):
        records.commit(context, stale, target, {"event_id": "ev_race"}, {}, loaded.items)


def test_the_ingest_examples_are_valid_events_in_a_working_order(call_ingest):
    """Each example validates against the document's schema, and sent in order to an empty tenant each is stored."""
    from jsonschema import Draft202012Validator

    from ledgerline.api.openapi import document

    spec = document()
    body = spec["paths"]["/ingest"]["post"]["requestBody"]["content"]["application/json"]
    schema = {**body["schema"], "components": spec["components"]}
    for name, example in body["examples"].items():
        errors = list(Draft202012Validator(schema).iter_errors(example["value"]))
        assert not errors, (name, [e.message for e in errors])
        status, _, answer = call_ingest(example["value"])
        assert status == 200 and answer["status"] == "Success", (name, answer)


def test_a_record_stored_with_a_version_item_per_version_keeps_its_history(call_ingest, call_tables, tables):
    """A stage keeps the records it stored before current items held their version: an item for
    every version, the current one included. Their next version adds only its own item's
    predecessor when that has none, so history is never duplicated nor lost."""
    call_ingest(client(email="ada@example.com"))
    [current] = [i for i in items(tables) if i["PK"]["S"] == "T#t1#clients#C1"]
    old = reads.current_version(records.from_attributes(current))
    tables.put_item(TableName=TABLE, Item={"PK": current["PK"], "SK": {"S": "v0000000001"}, **records.to_attributes(
        {**old, "tenant": "t1", "table": "clients", "id": "C1"})})
    tables.update_item(TableName=TABLE, Key={"PK": current["PK"], "SK": current["SK"]}, UpdateExpression="REMOVE #h",
                       ExpressionAttributeNames={"#h": records.HOLDS_VERSION})
    _, _, before = call_tables("/api/tables/clients/C1/history")

    assert call_ingest(client(step="update", email="ada@example.org"))[2]["version"] == 2
    assert call_ingest(client(step="update", email="ada@example.net"))[2]["version"] == 3

    assert [int(v["version"]) for v in version_items(tables, "T#t1#clients#C1")] == [1, 2]
    _, _, after = call_tables("/api/tables/clients/C1/history")
    assert [v["record"]["email"] for v in after["history"]] == ["ada@example.net", "ada@example.org", "ada@example.com"]
    assert after["history"][2]["event_id"] == before["history"][0]["event_id"]
