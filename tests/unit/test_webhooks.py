"""Webhooks, the pure rules: subscriptions, address classification, signature, retry schedule."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledgerline.domain import webhooks as rules
from ledgerline.domain.errors import DomainError
from ledgerline.events.outgoing import EVENT_NAMES

STATUS = "disbursement_status_update_outgoing"


def violations(body) -> set[tuple[str, str]]:
    with pytest.raises(DomainError) as raised:
        rules.parse_webhook(body, EVENT_NAMES)
    assert raised.value.problem == "validation-error"
    return {(v.field, v.code) for v in raised.value.violations}


def test_a_subscription_parses_with_its_url():
    webhook, url = rules.parse_webhook({"url": "https://hooks.example.com/in?x=1", "events": [STATUS]}, EVENT_NAMES)
    assert webhook.events == [STATUS] and url.hostname == "hooks.example.com" and url.query == "x=1"


def test_every_violation_is_listed():
    assert violations({"url": "https://user:pw@example.com/", "events": [STATUS, STATUS, "nope", 7]}) == {
        ("url", "invalid-url"), ("events[1]", "duplicate"), ("events[2]", "unknown-event"),
        ("events[3]", "invalid-type")}
    assert violations({"events": []}) == {("url", "required"), ("events", "too-short")}
    assert violations([]) == {("body", "invalid-type")}
    assert violations({"url": "https://example.com:99999/", "events": [STATUS]}) == {("url", "invalid-url")}


def test_event_names_come_from_the_published_schemas():
    from tools.event_schemas import schema_path

    assert all(schema_path(name, 1).exists() for name in EVENT_NAMES)


# -- addresses ----------------------------------------------------------------------------------

ipv4 = st.integers(0, 2**32 - 1).map(ipaddress.IPv4Address)


def in_network(network: str):
    net = ipaddress.ip_network(network)
    return st.integers(0, net.num_addresses - 1).map(lambda n: str(net[n]))


@given(st.one_of(in_network("10.0.0.0/8"), in_network("172.16.0.0/12"), in_network("192.168.0.0/16"),
                 in_network("100.64.0.0/10"), in_network("fc00::/7"), in_network("0.0.0.0/8")))
def test_private_addresses_are_refused_whatever_the_deployment(address):
    assert rules.address_refusal(address, allow_loopback=True) == "private"
    assert rules.address_refusal(address, allow_loopback=False) == "private"


@given(st.one_of(in_network("169.254.0.0/16"), in_network("fe80::/10")))
def test_link_local_addresses_are_refused(address):
    assert rules.address_refusal(address, allow_loopback=True) == "link-local"


@given(st.one_of(in_network("127.0.0.0/8"), st.just("::1")))
def test_loopback_only_where_the_deployment_allows_it(address):
    assert rules.address_refusal(address, allow_loopback=False) == "loopback"
    assert rules.address_refusal(address, allow_loopback=True) is None


@given(ipv4)
def test_an_ipv4_address_written_as_ipv6_is_judged_as_itself(address):
    mapped = f"::ffff:{address}"
    nat64 = str(ipaddress.IPv6Address(int(ipaddress.IPv6Address("64:ff9b::")) + int(address)))
    expected = rules.address_refusal(str(address), allow_loopback=False)
    assert rules.address_refusal(mapped, allow_loopback=False) == expected
    assert rules.address_refusal(nat64, allow_loopback=False) == expected


@given(ipv4)
def test_only_global_unicast_addresses_are_reachable(address):
    reachable = rules.address_refusal(str(address), allow_loopback=False) is None
    assert reachable == (address.is_global and not address.is_multicast and not address.is_reserved)


def test_resolved_addresses_decide_the_url():
    _, url = rules.parse_webhook({"url": "http://localhost:8080/in", "events": [STATUS]}, EVENT_NAMES)
    assert rules.check_addresses(url, ["127.0.0.1"], allow_loopback=True) == []
    assert [v.code for v in rules.check_addresses(url, ["127.0.0.1"], allow_loopback=False)] == ["refused-address"]
    assert [v.code for v in rules.check_addresses(url, ["93.184.215.14"], allow_loopback=True)] == ["https-required"]
    assert [v.code for v in rules.check_addresses(url, [], allow_loopback=True)] == ["unresolvable-host"]
    _, secure = rules.parse_webhook({"url": "https://hooks.example.com/", "events": [STATUS]}, EVENT_NAMES)
    # one bad answer among good ones is enough to refuse: the connection could go to any of them
    assert [v.code for v in rules.check_addresses(secure, ["93.184.215.14", "10.1.2.3"], False)] == [
        "refused-address"]


# -- signature ----------------------------------------------------------------------------------


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    body = b'{"id":"oe_1"}'
    expected = hmac.new(b"whsec_x", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert rules.signature("whsec_x", 1700000000, body) == f"t=1700000000,v1={expected}"


@given(st.binary(max_size=200), st.integers(0, 2**33))
def test_a_signature_verifies_its_body_and_nothing_else(body, moment):
    header = rules.signature("whsec_abc", moment, body)
    assert rules.verify("whsec_abc", header, body, now=moment)
    assert not rules.verify("whsec_abd", header, body, now=moment)
    assert not rules.verify("whsec_abc", header, body + b"x", now=moment)
    assert not rules.verify("whsec_abc", header, body, now=moment + 301)  # too old: a replay


def test_secrets_differ_per_webhook_and_tenant_and_key():
    secrets = {rules.signing_secret(key, tenant, hook) for key in (b"k1", b"k2") for tenant in ("t1", "t2")
               for hook in ("wh_1", "wh_2")}
    assert len(secrets) == 8 and all(s.startswith("whsec_") for s in secrets)


# -- retries ------------------------------------------------------------------------------------


def schedule() -> list[int]:
    """The waits between attempts when every attempt fails at once."""
    waits, elapsed, attempt = [], 0, 1
    while (wait := rules.retry_delay(attempt, elapsed)) is not None:
        waits.append(wait)
        elapsed += wait
        attempt += 1
    return waits


def test_the_schedule_doubles_from_30_seconds_and_ends_at_24_hours():
    waits = schedule()
    assert waits[:4] == [30, 60, 120, 240]
    assert all(later >= earlier for earlier, later in zip(waits[:-1], waits[1:-1], strict=False))
    assert max(waits) <= 12 * 3600  # SQS's longest visibility timeout
    assert sum(waits) == 24 * 3600  # the last attempt is made 24 h after the first, then the dead letter
    assert len(waits) + 1 == 13  # attempts in all


@given(st.integers(1, 40), st.floats(0, 30 * 3600, allow_nan=False))
def test_no_retry_is_scheduled_past_the_window_or_above_12_hours(attempt, elapsed):
    wait = rules.retry_delay(attempt, elapsed)
    if elapsed > rules.RETRY_WINDOW_SECONDS - 1:
        assert wait is None
    else:
        assert wait is not None and 0 < wait <= rules.MAX_RETRY_SECONDS
        assert elapsed + wait <= rules.RETRY_WINDOW_SECONDS


def test_the_delivery_body_is_the_documented_envelope():
    row = {"event_id": "oe_1", "name": STATUS, "schema_version": 1, "detail": {"a": 1},
           "published_at": "2026-01-01T00:00:00.000000Z", "subject": {}, "cause": {}}
    assert rules.delivery_body("t1", row) == {"id": "oe_1", "name": STATUS, "version": 1, "tenant": "t1",
                                              "detail": {"a": 1}, "published_at": "2026-01-01T00:00:00.000000Z"}
