"""Webhooks (docs/webhooks.md): subscriptions, and the delivery of outgoing events to them.

Subscriptions are records of the tenant's `webhooks` table. A webhook's signing secret is
derived from the deployment's webhook key and the webhook's id (`domain.webhooks.signing_secret`):
shown once when it is created, never stored, recomputed to sign each delivery.

Delivery, the same code on AWS and in the local stack: each outgoing event reaches the
delivery queue (EventBridge rule -> SQS); `fan_out` turns it into one task per subscription
that wants it; `deliver` POSTs one task, logs the attempt, and says when to try again.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ledgerline.actors import Actor, Answer
from ledgerline.domain import webhooks as rules
from ledgerline.domain.category import RecordWrite, changed_fields
from ledgerline.domain.errors import DomainError, validation_error
from ledgerline.domain.jsonio import dumps
from ledgerline.domain.tables import OUTGOING_EVENTS, WEBHOOKS
from ledgerline.domain.values import ID_PATTERN
from ledgerline.events import http_post, webhook_queue
from ledgerline.events.outgoing import EVENT_NAMES
from ledgerline.observability import count, logger
from ledgerline.settings import get_settings, secret_setting
from ledgerline.store import reads
from ledgerline.store import webhooks as store
from ledgerline.store.keys import system_time
from ledgerline.store.retry import retry_on_conflict


def _not_found(webhook_id: str) -> DomainError:
    return DomainError("not-found", f"No webhook '{webhook_id}'.")


def public(webhook: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in webhook.items() if k != "deleted" or v}


def secret_of(tenant: str, webhook_id: str) -> str:
    return rules.signing_secret(secret_setting("webhook_key", "webhook_key_arn"), tenant, webhook_id)


# -- subscriptions ------------------------------------------------------------------------------


def create(actor: Actor, body: Any) -> Answer:
    """Register a subscription (422 listing every violation, the URL's resolved addresses included)."""
    webhook, url = rules.parse_webhook(body, EVENT_NAMES)
    allow_loopback = get_settings().webhook_allow_loopback
    where = http_post.target(webhook.url)
    violations = rules.check_addresses(url, http_post.resolve(where.host, where.port), allow_loopback)
    if violations:
        raise validation_error(violations)
    webhook_id = f"wh_{uuid.uuid4().hex}"
    record = {"webhook_id": webhook_id, **webhook.model_dump(exclude_none=True), "deleted": False}
    now = store.commit(actor.context(), RecordWrite(WEBHOOKS, webhook_id, record, 0, changed_fields(None, record)))
    return Answer(201, {**public(record), "version": 1, "created_at": now, "updated_at": now})


def with_secret(tenant: str):
    """The answer to POST /api/webhooks as sent: the stored answer plus the secret, derived again
    (so an idempotent replay shows it too, and no stored answer ever holds it)."""
    def shown(answer: dict[str, Any]) -> dict[str, Any]:
        return {**answer, "secret": secret_of(tenant, answer["webhook_id"])}
    return shown


def live(actor: Actor, webhook_id: str) -> dict[str, Any]:
    webhook = store.one(actor.tenant, webhook_id) if ID_PATTERN.fullmatch(webhook_id) else None
    if webhook is None or webhook.get("deleted"):
        raise _not_found(webhook_id)
    return webhook


def existing(actor: Actor, webhook_id: str) -> dict[str, Any]:
    """A webhook of the tenant, deleted or not (its delivery log outlives it)."""
    webhook = store.one(actor.tenant, webhook_id) if ID_PATTERN.fullmatch(webhook_id) else None
    if webhook is None:
        raise _not_found(webhook_id)
    return webhook


def delete(actor: Actor, webhook_id: str) -> Answer:
    """Delete a subscription: deliveries still queued for it are dropped when they come up."""
    def attempt() -> Answer:
        current = live(actor, webhook_id)
        record = {**{k: v for k, v in current.items() if k not in ("version", "created_at", "updated_at")},
                  "deleted": True}
        write = RecordWrite(WEBHOOKS, webhook_id, {**record, "created_at": current["created_at"]},
                            int(current["version"]), ["deleted"])
        now = store.commit(actor.context(), write)
        return Answer(200, {**record, "version": int(current["version"]) + 1, "created_at": current["created_at"],
                            "updated_at": now})

    return retry_on_conflict(attempt, lambda: DomainError(
        "request-in-progress", "The webhook changed concurrently too often; retry shortly.", retry_after=1))


def page(tenant: str, limit: int, start_key: dict[str, Any] | None) -> reads.Page:
    found = reads.list_records(tenant, WEBHOOKS, limit=limit, start_key=start_key)
    return reads.Page([public(w) for w in found.items if not w.get("deleted")], found.last_key)


def deliveries(actor: Actor, webhook_id: str, limit: int, start_key: dict[str, Any] | None) -> reads.Page:
    """A page of a webhook's delivery log (deleted webhooks keep theirs), oldest attempt first."""
    existing(actor, webhook_id)
    found = store.deliveries(actor.tenant, webhook_id, limit, start_key)
    return reads.Page([{k: v for k, v in row.items() if k not in ("version", "created_at", "updated_at")}
                       for row in found.items], found.last_key)


# -- delivery -----------------------------------------------------------------------------------


def is_event(message: dict[str, Any]) -> bool:
    """An outgoing event as the EventBridge rule puts it on the queue (else: a delivery task)."""
    return "detail-type" in message


Subscriptions = Callable[[str], list[dict[str, Any]]]  # a tenant's live subscriptions


def fan_out(message: dict[str, Any], subscriptions: Subscriptions | None = None) -> int:
    """One delivery task per subscription of the event's tenant that wants its name; how many."""
    name, detail = message["detail-type"], message["detail"]
    tenant = detail["tenant"]
    tasks = [{"tenant": tenant, "webhook_id": webhook["webhook_id"], "event_id": detail["event_id"]}
             for webhook in (subscriptions or store.subscriptions)(tenant) if rules.wants(webhook, name)]
    webhook_queue.send_tasks(tasks)
    return len(tasks)


@dataclass(frozen=True)
class Attempt:
    """What became of one task: its log row (None: nothing to deliver) and, if it failed with time
    left, the seconds to wait before the next attempt."""

    row: dict[str, Any] | None
    retry_in: int | None = None


def deliver(task: dict[str, Any], attempt: int, elapsed_seconds: float) -> Attempt:
    """POST one task's event to its webhook (attempt `attempt`, `elapsed_seconds` after the first)."""
    tenant, webhook_id, event_id = task["tenant"], task["webhook_id"], task["event_id"]
    webhook = store.one(tenant, webhook_id)
    event = reads.get_record(tenant, OUTGOING_EVENTS, event_id)
    gone = webhook is None or webhook.get("deleted")
    if gone or event is None:
        logger.info("webhook task dropped", extra={"webhook_id": webhook_id, "event_id": event_id,
                                                   "reason": "webhook deleted" if gone else "no such event"})
        return Attempt(None)
    body = dumps(rules.delivery_body(tenant, event)).encode("utf-8")
    moment = int(time.time())
    headers = {rules.EVENT_ID_HEADER: event_id,
               rules.SIGNATURE_HEADER: rules.signature(secret_of(tenant, webhook_id), moment, body),
               "User-Agent": "Ledgerline-Webhooks/1"}
    settings = get_settings()
    status_code, error = None, None
    try:
        status_code = http_post.post(webhook["url"], body, headers, timeout=settings.webhook_timeout_seconds,
                                     allow_loopback=settings.webhook_allow_loopback)
    except http_post.DeliveryRefused as refused:
        error = f"refused: {refused}"
    except TimeoutError:
        error = f"timeout after {settings.webhook_timeout_seconds:g} s"
    except OSError as failure:
        error = f"unreachable: {type(failure).__name__}: {failure}"[:300]
    delivered = status_code is not None and 200 <= status_code < 300
    retry_in = None if delivered else rules.retry_delay(attempt, elapsed_seconds)
    outcome = rules.DELIVERED if delivered else rules.FAILED if retry_in is not None else rules.DEAD_LETTERED
    row = {"delivery_id": rules.delivery_id(webhook_id, event_id, attempt), "webhook_id": webhook_id,
           "event_id": event_id, "event_name": event["name"], "attempt": attempt, "status_code": status_code,
           "outcome": outcome, "at": system_time()}
    if error:
        row["error"] = error
    store.log_attempt(tenant, row, event_id)
    count({rules.DELIVERED: "WebhooksDelivered", rules.FAILED: "WebhookAttemptsFailed",
           rules.DEAD_LETTERED: "WebhooksDeadLettered"}[outcome])
    return Attempt(row, retry_in)


def handle_message(body: dict[str, Any], receipt_handle: str, attempt: int, elapsed_seconds: float,
                   subscriptions: Subscriptions | None = None) -> None:
    """One queue message: fan an event out, or deliver a task and schedule its retry. Raises
    RetryLater for a task to attempt again (the message stays queued, hidden for the backoff)."""
    if is_event(body):
        fan_out(body, subscriptions)
        return
    result = deliver(body, attempt, elapsed_seconds)
    if result.row is None or result.row["outcome"] == rules.DELIVERED:
        return
    if result.retry_in is None:
        webhook_queue.dead_letter(body, result.row.get("error") or f"HTTP {result.row['status_code']}", attempt)
        return
    webhook_queue.retry_later(receipt_handle, result.retry_in)
    raise RetryLater(f"attempt {attempt} failed; next in {result.retry_in} s")


def once_per_tenant() -> Subscriptions:
    """The subscription lookup, asked once per tenant: for one batch of queue messages, whose
    events are mostly one tenant's. A subscription made while the batch runs reaches the next
    one, as it would a moment later through the index anyway."""
    seen: dict[str, list[dict[str, Any]]] = {}

    def subscriptions(tenant: str) -> list[dict[str, Any]]:
        if tenant not in seen:
            seen[tenant] = store.subscriptions(tenant)
        return seen[tenant]

    return subscriptions


class RetryLater(Exception):
    """A delivery failed and will be attempted again once the message is visible."""
