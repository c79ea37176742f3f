"""Webhooks (docs/webhooks.md), the pure part: the subscription a partner sends, which addresses
a delivery may reach, the signature, the retry schedule and the body of a delivery.

No network, no clock, no AWS: the caller resolves host names, reads the time and posts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
from collections.abc import Iterable
from typing import Any
from urllib.parse import SplitResult, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ledgerline.domain.category import violations_from
from ledgerline.domain.errors import Violation, validation_error
from ledgerline.domain.values import text

MAX_URL = 2000
MAX_EVENTS = 20
SIGNATURE_HEADER = "Ledgerline-Signature"
EVENT_ID_HEADER = "Ledgerline-Event-Id"
# Retries: the first after 30 s, then twice as long each time, no wait above SQS's 12 h
# visibility maximum, and none beyond 24 h after the first attempt: the last failure is dead-lettered.
FIRST_RETRY_SECONDS = 30
MAX_RETRY_SECONDS = 12 * 3600
RETRY_WINDOW_SECONDS = 24 * 3600
# Outcomes of one attempt, as the delivery log names them.
DELIVERED, FAILED, DEAD_LETTERED = "delivered", "failed", "dead-lettered"
# NAT64 (RFC 6052) embeds an IPv4 address: judge the address it stands for.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


UrlText = text(MAX_URL)
DescriptionText = text(1000)


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    url: UrlText
    events: list[str] = Field(min_length=1, max_length=MAX_EVENTS)
    description: DescriptionText | None = None


def parse_webhook(body: Any, known_events: Iterable[str]) -> tuple[WebhookIn, SplitResult]:
    """The subscription in `body` and its parsed URL, or a 422 listing every violation (the URL's
    addresses are checked afterwards, once resolved: `check_addresses`)."""
    if not isinstance(body, dict):
        raise validation_error([Violation("body", "invalid-type", "must be a JSON object")])
    violations: list[Violation] = []
    webhook = None
    try:
        webhook = WebhookIn.model_validate(body)
    except ValidationError as error:
        violations += [Violation(v.field.removeprefix("data").lstrip("."), v.code, v.message)
                       for v in violations_from(error)]
    if isinstance(body.get("events"), list):
        violations += _event_violations(body["events"], tuple(known_events))
    url = None
    if isinstance(body.get("url"), str) and not any(v.field == "url" for v in violations):
        url, url_violations = _url(body["url"])
        violations += url_violations
    if violations or webhook is None or url is None:
        raise validation_error(violations)
    return webhook, url


def _event_violations(events: list[Any], known: tuple[str, ...]) -> list[Violation]:
    """Unknown and repeated event names (other types are the model's to report)."""
    found = []
    for index, name in enumerate(events):
        if isinstance(name, str) and name not in known:
            found.append(Violation(f"events[{index}]", "unknown-event", f"must be one of {', '.join(known)}"))
        elif isinstance(name, str) and name in events[:index]:
            found.append(Violation(f"events[{index}]", "duplicate", "is listed twice"))
    return found


def _url(value: str) -> tuple[SplitResult | None, list[Violation]]:
    try:
        url = urlsplit(value)
        url.port  # noqa: B018 (raises on a port that is not a number in range)
    except ValueError:
        return None, [Violation("url", "invalid-url", "must be an absolute http(s) URL")]
    if url.scheme not in ("https", "http") or not url.hostname:
        return None, [Violation("url", "invalid-url", "must be an absolute https URL")]
    if url.username is not None or url.password is not None:
        return None, [Violation("url", "invalid-url", "must not carry credentials; verify the signature instead")]
    if url.fragment:
        return None, [Violation("url", "invalid-url", "must not have a fragment")]
    return url, []


def address_refusal(address: str, allow_loopback: bool) -> str | None:
    """Why a delivery may not connect to `address` ("loopback", "link-local", "private"), or None.

    Only public unicast addresses are reachable; loopback only where the deployment allows it
    (the local stack). An IPv4 address written as IPv6 (mapped, NAT64) is judged as itself.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone index names no other host
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip in _NAT64:
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.is_loopback:
        return None if allow_loopback else "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_private or ip.is_multicast or ip.is_reserved or ip.is_unspecified or not ip.is_global:
        return "private"
    return None


def all_loopback(addresses: list[str]) -> bool:
    """Plain http is allowed to these addresses only (where the deployment allows loopback)."""
    return all(ipaddress.ip_address(address.split("%", 1)[0]).is_loopback for address in addresses)


def check_addresses(url: SplitResult, addresses: list[str], allow_loopback: bool) -> list[Violation]:
    """The violations of a URL whose host resolved to `addresses` (none: it did not resolve)."""
    if not addresses:
        return [Violation("url", "unresolvable-host", f"the host {url.hostname} does not resolve")]
    refused = sorted({f"{address} ({reason})" for address in addresses
                      if (reason := address_refusal(address, allow_loopback))})
    if refused:
        return [Violation("url", "refused-address", "resolves to an address deliveries may not reach: "
                                                    + ", ".join(refused))]
    if url.scheme == "http" and not (allow_loopback and all_loopback(addresses)):
        return [Violation("url", "https-required", "must use https (plain http only to loopback, where allowed)")]
    return []


# -- the secret and the signature ----------------------------------------------------------------


def signing_secret(master_key: bytes, tenant: str, webhook_id: str) -> str:
    """A webhook's signing secret, derived from the deployment's key: never stored, shown once."""
    digest = hmac.new(master_key, f"webhook-secret\n{tenant}\n{webhook_id}".encode(), hashlib.sha256).digest()
    return "whsec_" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The `Ledgerline-Signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, now: int, tolerance: int = 300) -> bool:
    """What a receiver checks (docs/webhooks.md): a v1 signature of this body, made within `tolerance` s."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    expected = signature(secret, timestamp, body).split("v1=", 1)[1]
    return abs(now - timestamp) <= tolerance and hmac.compare_digest(expected, parts.get("v1", ""))


# -- retries ------------------------------------------------------------------------------------


def retry_delay(attempt: int, elapsed_seconds: float) -> int | None:
    """Seconds to wait before retrying after failed attempt `attempt` (1-based), `elapsed_seconds`
    after the first attempt; None when the window is over and the delivery is dead-lettered."""
    remaining = RETRY_WINDOW_SECONDS - elapsed_seconds
    if remaining < 1:
        return None
    backoff = FIRST_RETRY_SECONDS * 2 ** min(attempt - 1, 20)
    return int(min(backoff, MAX_RETRY_SECONDS, remaining))


# -- the delivery -------------------------------------------------------------------------------


def delivery_body(tenant: str, event: dict[str, Any]) -> dict[str, Any]:
    """What a subscriber receives for one outgoing event (its `outgoing_events` record)."""
    return {"id": event["event_id"], "name": event["name"], "version": int(event["schema_version"]),
            "tenant": tenant, "detail": event["detail"], "published_at": event["published_at"]}


def delivery_id(webhook_id: str, event_id: str, attempt: int) -> str:
    return f"{webhook_id}:{event_id}:{attempt:03d}"


def wants(webhook: dict[str, Any], event_name: str) -> bool:
    return not webhook.get("deleted") and event_name in webhook["events"]
