"""Webhooks over moto: registration through the real handler, events from the real worker, the
delivery queue fed by the EventBridge rule and drained by the local stack's delivery pump into the
real delivery handler, which POSTs to a loopback receiver."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from ledgerline import settings as env
from ledgerline.domain import webhooks as rules
from ledgerline.domain.jsonio import loads
from tests.builders import FakeLambdaContext, api_event, client, loan
from tests.conftest import headers_of
from tests.webhook_receiver import receiver

STATUS = "disbursement_status_update_outgoing"
STATEMENT = "disbursement_balance_statement_update_outgoing"
CHANGE = "disbursement_change_outgoing"


@pytest.fixture
def hooks(worker_aws: Any, stream_pump: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The delivery queue and its rule on the test bus, the delivery pump, a 0.3 s timeout."""
    from functions.webhook_delivery.handler import handler
    from ledgerline import aws
    from ledgerline.settings import get_settings
    from local.delivery_pump import DeliveryPump, create_delivery_resources

    queue_url, dlq_url = create_delivery_resources(worker_aws.sqs, aws.client("events"), worker_aws.bus)
    monkeypatch.setenv(env.WEBHOOK_QUEUE_URL, queue_url)
    monkeypatch.setenv(env.WEBHOOK_DLQ_URL, dlq_url)
    monkeypatch.setenv(env.WEBHOOK_KEY, "test-webhook-key")
    monkeypatch.setenv(env.WEBHOOK_ALLOW_LOOPBACK, "true")
    monkeypatch.setenv(env.WEBHOOK_TIMEOUT_SECONDS, "0.3")
    get_settings.cache_clear()
    pump = DeliveryPump(handler=handler, sqs=worker_aws.sqs, queue_url=queue_url, context_factory=FakeLambdaContext)

    def settle() -> None:
        stream_pump.drain()
        pump.drain()

    def dead_letters() -> list[dict[str, Any]]:
        found = worker_aws.sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(message["Body"]) for message in found]

    from types import SimpleNamespace
    yield SimpleNamespace(settle=settle, pump=pump, queue_url=queue_url, dead_letters=dead_letters,
                          handler=handler)
    get_settings.cache_clear()


def call(method: str, path: str, body: Any = None, *, tenant: str = "t1", headers: dict[str, str] | None = None,
         query: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    from functions.webhooks.handler import handler

    event = api_event(method, path, body=body, tenant=tenant, headers=headers, query=query)
    response = handler(event, FakeLambdaContext())
    return response["statusCode"], headers_of(response), loads(response["body"]) if response["body"] else None


def subscribe(url: str, events: list[str], tenant: str = "t1") -> dict[str, Any]:
    status, _, body = call("POST", "/api/webhooks", {"url": url, "events": events}, tenant=tenant)
    assert status == 201, body
    return body


def deliveries(webhook_id: str, tenant: str = "t1") -> list[dict[str, Any]]:
    status, _, body = call("GET", f"/api/webhooks/{webhook_id}/deliveries", tenant=tenant)
    assert status == 200, body
    return body["items"]


def a_loan(call_ingest: Any, tenant: str = "t1") -> None:
    for event in (client(), loan()):
        status, _, answer = call_ingest(event, tenant=tenant)
        assert status == 200, answer


def test_a_subscribed_event_is_delivered_signed_and_logged(hooks, call_ingest):
    with receiver() as subscriber:
        hook = subscribe(subscriber.url, [STATUS])
        a_loan(call_ingest)
        hooks.settle()

        [got] = subscriber.received  # the loan's statement event is not subscribed: not sent
    body = json.loads(got.body)
    assert body["name"] == STATUS and body["tenant"] == "t1" and body["version"] == 1
    assert set(body) == {"id", "name", "version", "tenant", "detail", "published_at"}
    assert got.headers["Ledgerline-Event-Id"] == body["id"] == body["detail"]["event_id"]
    assert rules.verify(hook["secret"], got.headers["Ledgerline-Signature"], got.body, now=int(time.time()))
    assert not rules.verify(hook["secret"], got.headers["Ledgerline-Signature"], got.body + b" ", now=int(time.time()))
    [logged] = deliveries(hook["webhook_id"])
    assert logged["event_id"] == body["id"] and logged["event_name"] == STATUS
    assert (logged["attempt"], logged["status_code"], logged["outcome"]) == (1, 200, "delivered")


def test_a_500_is_retried_with_backoff_and_every_attempt_logged(hooks, call_ingest, monkeypatch):
    retries: list[tuple[int, float]] = []
    schedule = rules.retry_delay

    def no_wait(attempt: int, elapsed: float) -> int | None:
        retries.append((attempt, schedule(attempt, elapsed)))
        return 0  # the backoff's visibility change, without waiting for it

    monkeypatch.setattr(rules, "retry_delay", no_wait)
    with receiver() as subscriber:
        subscriber.plan = [500, 503]
        hook = subscribe(subscriber.url, [STATUS])
        a_loan(call_ingest)
        hooks.settle()

        assert len(subscriber.received) == 3
    logged = deliveries(hook["webhook_id"])
    assert [(row["attempt"], row["status_code"], row["outcome"]) for row in logged] == [
        (1, 500, "failed"), (2, 503, "failed"), (3, 200, "delivered")]
    assert retries == [(1, 30), (2, 60)]  # what the schedule asked for: 30 s, then twice as long
    bodies = {r.body for r in subscriber.received}
    assert len(bodies) == 1  # the same event each time, under the same id


def test_a_timeout_is_retried(hooks, call_ingest, monkeypatch):
    monkeypatch.setattr(rules, "retry_delay", lambda attempt, elapsed: 0)
    with receiver() as subscriber:
        subscriber.plan = [("sleep", 1.0)]  # longer than the 0.3 s the test deployment allows
        hook = subscribe(subscriber.url, [STATUS])
        a_loan(call_ingest)
        hooks.settle()
        subscriber.wait_for(2)

    logged = deliveries(hook["webhook_id"])
    assert [(row["attempt"], row["status_code"], row["outcome"]) for row in logged] == [
        (1, None, "failed"), (2, 200, "delivered")]
    assert logged[0]["error"].startswith("timeout")


def test_the_last_failed_attempt_is_dead_lettered(hooks, call_ingest):
    from local.delivery_pump import lambda_record

    with receiver() as subscriber:
        subscriber.plan = [500]
        hook = subscribe(subscriber.url, [STATUS])
        a_loan(call_ingest)
        hooks.settle()  # attempt 1 fails; the task is hidden for 30 s
        assert len(subscriber.received) == 1
        # SQS hands the task back a 13th time, 24 h after it was first sent.
        sqs = hooks.pump.sqs
        _expose_hidden(sqs, hooks.queue_url)
        [message] = sqs.receive_message(QueueUrl=hooks.queue_url, AttributeNames=["All"])["Messages"]
        message["Attributes"] |= {"ApproximateReceiveCount": "13",
                                  "SentTimestamp": str(int((time.time() - rules.RETRY_WINDOW_SECONDS) * 1000))}
        subscriber.plan = [500]
        answer = hooks.handler({"Records": [lambda_record(message, "arn:aws:sqs:eu-west-1:123456789012:q",
                                                          "eu-west-1")]}, FakeLambdaContext())

    assert answer["batchItemFailures"] == []  # done with: the pump deletes it from the delivery queue
    logged = deliveries(hook["webhook_id"])
    assert [(row["attempt"], row["outcome"]) for row in logged] == [(1, "failed"), (13, "dead-lettered")]
    [dead] = hooks.dead_letters()
    assert dead["webhook_id"] == hook["webhook_id"] and dead["attempts"] == 13 and dead["reason"] == "HTTP 500"


def _expose_hidden(sqs: Any, queue_url: str) -> None:
    """moto keeps a message hidden for real seconds: make the hidden task visible now."""
    from moto.backends import get_backend

    for backend in get_backend("sqs").values():
        for region in backend.values():
            for queue in region.queues.values():
                if queue.url == queue_url or queue_url.endswith(queue.name):
                    for message in queue._messages:
                        message.change_visibility(0)


def test_events_are_delivered_only_to_the_tenant_that_subscribed(hooks, call_ingest):
    with receiver() as mine, receiver() as theirs:
        mine_hook = subscribe(mine.url, [STATUS, STATEMENT])
        theirs_hook = subscribe(theirs.url, [STATUS], tenant="t2")
        a_loan(call_ingest, tenant="t1")
        hooks.settle()

        assert sorted(json.loads(r.body)["name"] for r in mine.received) == [STATEMENT, STATUS]
        assert theirs.received == []
    assert deliveries(theirs_hook["webhook_id"], tenant="t2") == []
    status, _, problem = call("GET", f"/api/webhooks/{mine_hook['webhook_id']}/deliveries", tenant="t2")
    assert status == 404 and problem["type"].endswith("/not-found")
    status, _, problem = call("DELETE", f"/api/webhooks/{mine_hook['webhook_id']}", tenant="t2")
    assert status == 404
    status, _, listed = call("GET", "/api/webhooks", tenant="t2")
    assert [w["webhook_id"] for w in listed["items"]] == [theirs_hook["webhook_id"]]


def test_a_deleted_webhook_gets_nothing_more_and_the_secret_is_never_listed(hooks, call_ingest):
    with receiver() as subscriber:
        hook = subscribe(subscriber.url, [STATUS])
        status, _, listed = call("GET", "/api/webhooks")
        assert status == 200 and [w["webhook_id"] for w in listed["items"]] == [hook["webhook_id"]]
        assert "secret" not in json.dumps(listed) and hook["secret"] not in json.dumps(listed)
        status, _, deleted = call("DELETE", f"/api/webhooks/{hook['webhook_id']}")
        assert status == 200 and deleted["deleted"] is True
        a_loan(call_ingest)
        hooks.settle()

        assert subscriber.received == []
    status, _, listed = call("GET", "/api/webhooks")
    assert listed["items"] == []
    assert deliveries(hook["webhook_id"]) == []  # the log of a deleted webhook stays readable
    status, _, _ = call("DELETE", f"/api/webhooks/{hook['webhook_id']}")
    assert status == 404


def test_registration_lists_every_violation(hooks):
    status, headers, problem = call("POST", "/api/webhooks", {
        "url": "ftp://example.com/x", "events": ["disbursement_status_update_outgoing", "no_such_event"],
        "description": "", "colour": "red"})
    assert status == 422 and headers["Content-Type"] == "application/problem+json"
    assert problem["type"].endswith("/validation-error")
    assert {(e["field"], e["code"]) for e in problem["errors"]} == {
        ("url", "invalid-url"), ("events[1]", "unknown-event"), ("description", "too-short"),
        ("colour", "unknown-field")}


@pytest.mark.parametrize(("url", "code"), [
    ("http://10.0.0.8/hook", "refused-address"),
    ("https://169.254.169.254/latest/meta-data", "refused-address"),
    ("https://[::ffff:192.168.1.4]/hook", "refused-address"),
    ("https://no-such-host.invalid/hook", "unresolvable-host"),
])
def test_private_link_local_and_unresolvable_hosts_are_refused(hooks, url, code):
    status, _, problem = call("POST", "/api/webhooks", {"url": url, "events": [STATUS]})
    assert status == 422 and problem["type"].endswith("/validation-error")
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [("url", code)]


def test_loopback_and_plain_http_need_the_deployment_to_allow_loopback(hooks, monkeypatch):
    from ledgerline.settings import get_settings

    monkeypatch.setenv(env.WEBHOOK_ALLOW_LOOPBACK, "false")
    get_settings.cache_clear()
    status, _, problem = call("POST", "/api/webhooks", {"url": "http://127.0.0.1:9/hook", "events": [STATUS]})
    assert status == 422 and [(e["field"], e["code"]) for e in problem["errors"]] == [("url", "refused-address")]


def test_registration_is_idempotent_and_the_replay_shows_the_same_secret(hooks):
    request = {"url": "http://127.0.0.1:9/hook", "events": [STATUS], "description": "books"}
    first = call("POST", "/api/webhooks", request, headers={"Idempotency-Key": "wh-1"})
    again = call("POST", "/api/webhooks", request, headers={"Idempotency-Key": "wh-1"})
    other = call("POST", "/api/webhooks", {**request, "description": "other"}, headers={"Idempotency-Key": "wh-1"})
    assert first[0] == again[0] == 201 and again[1].get("Idempotent-Replayed") == "true"
    assert first[2] == again[2] and first[2]["secret"].startswith("whsec_")
    assert other[0] == 422 and other[2]["type"].endswith("/idempotency-key-reused")
    status, _, listed = call("GET", "/api/webhooks")
    assert len(listed["items"]) == 1


def test_the_delivery_log_pages_with_the_cursor(hooks, call_ingest):
    with receiver() as subscriber:
        hook = subscribe(subscriber.url, [STATUS, STATEMENT])
        a_loan(call_ingest)
        hooks.settle()
    status, _, first = call("GET", f"/api/webhooks/{hook['webhook_id']}/deliveries", query={"limit": "1"})
    assert status == 200 and len(first["items"]) == 1 and first["next_cursor"]
    status, _, second = call("GET", f"/api/webhooks/{hook['webhook_id']}/deliveries",
                             query={"limit": "1", "cursor": first["next_cursor"]})
    assert status == 200 and len(second["items"]) == 1
    assert {first["items"][0]["event_name"], second["items"][0]["event_name"]} == {STATUS, STATEMENT}
    status, _, problem = call("GET", "/api/webhooks", query={"cursor": first["next_cursor"]})
    assert status == 400  # a cursor of another query is refused


def test_deleting_a_webhook_drops_its_queued_retries(hooks, call_ingest):
    with receiver() as subscriber:
        subscriber.plan = [500]
        hook = subscribe(subscriber.url, [STATUS])
        a_loan(call_ingest)
        hooks.settle()  # attempt 1 fails; its retry waits hidden on the queue
        status, _, _ = call("DELETE", f"/api/webhooks/{hook['webhook_id']}")
        assert status == 200
        _expose_hidden(hooks.pump.sqs, hooks.queue_url)
        hooks.settle()

        assert len(subscriber.received) == 1
    assert [(row["attempt"], row["outcome"]) for row in deliveries(hook["webhook_id"])] == [(1, "failed")]
    assert hooks.dead_letters() == []
    visible = hooks.pump.sqs.receive_message(QueueUrl=hooks.queue_url).get("Messages", [])
    assert visible == []  # the task was done with, not left to come back


def test_the_secret_is_stored_nowhere(hooks, tables, call_ingest):
    from ledgerline.settings import get_settings

    with receiver() as subscriber:
        hook = subscribe(subscriber.url, [STATUS])
        call("POST", "/api/webhooks", {"url": subscriber.url, "events": [STATEMENT]},
             headers={"Idempotency-Key": "stored-nowhere"})
        a_loan(call_ingest)
        hooks.settle()
        assert subscriber.received
    import zlib

    settings = get_settings()
    for table in (settings.records_table, settings.idempotency_table):
        for item in tables.scan(TableName=table)["Items"]:
            # every attribute as stored, and compressed ones (records, journal lines) decompressed
            texts = [repr(item)] + [zlib.decompress(value["B"]).decode() for value in item.values() if "B" in value]
            assert not any("whsec_" in text for text in texts), item
    assert hook["secret"].startswith("whsec_")


def test_a_batch_looks_each_tenants_subscriptions_up_once(hooks, call_ingest, monkeypatch):
    from ledgerline.store import webhooks as store

    looked_up: list[str] = []
    real = store.subscriptions
    monkeypatch.setattr(store, "subscriptions", lambda tenant: looked_up.append(tenant) or real(tenant))
    with receiver() as subscriber:
        subscribe(subscriber.url, [STATUS, STATEMENT])
        subscribe(subscriber.url, [STATUS], tenant="t2")
        a_loan(call_ingest)
        a_loan(call_ingest, tenant="t2")
        hooks.pump.drain()  # nothing queued yet: the events are still in the stream
        hooks.settle()

        names = sorted((json.loads(got.body)["tenant"], json.loads(got.body)["name"]) for got in subscriber.received)
    assert names == [("t1", STATEMENT), ("t1", STATUS), ("t2", STATUS)]
    # four events (a status and a statement for each loan) in one batch: one lookup per tenant
    assert sorted(looked_up) == ["t1", "t2"]
