"""The delivery's HTTP client: it resolves once, refuses what it must, and connects to the address it checked."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest

from ledgerline.events import http_post
from tests.webhook_receiver import receiver


def test_the_connection_goes_to_the_checked_address_not_a_second_lookup(monkeypatch):
    lookups = []
    real = socket.getaddrinfo

    def rebinding(host, port, *args, **kwargs):
        if host != "hooks.test":  # an address (connecting to one looks it up too)
            return real(host, port, *args, **kwargs)
        lookups.append(host)  # a rebinding DNS: loopback the first time, a private address after
        return real("127.0.0.1" if len(lookups) == 1 else "10.9.9.9", port, *args, **kwargs)

    with receiver() as subscriber:
        port = urlsplit(subscriber.url).port
        monkeypatch.setattr(socket, "getaddrinfo", rebinding)
        status = http_post.post(f"http://hooks.test:{port}/in?x=1", b"{}", {"X-Test": "1"}, timeout=2,
                                allow_loopback=True)
        assert status == 200 and lookups == ["hooks.test"]
        [got] = subscriber.received
    assert got.path == "/in?x=1" and got.headers["Host"] == f"hooks.test:{port}"
    assert got.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(("answers", "allow", "refused"), [
    (["10.0.0.1"], True, "private"), (["127.0.0.1"], False, "loopback"), (["93.184.215.14", "169.254.169.254"], True,
                                                                          "link-local"), ([], True, "does not resolve"),
])
def test_refused_addresses_are_never_connected_to(monkeypatch, answers, allow, refused):
    monkeypatch.setattr(http_post, "resolve", lambda host, port: answers)
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: pytest.fail("connected"))
    with pytest.raises(http_post.DeliveryRefused, match=refused):
        http_post.post("https://hooks.test/in", b"{}", {}, timeout=1, allow_loopback=allow)


def test_plain_http_goes_to_loopback_only_even_when_dns_changes(monkeypatch):
    monkeypatch.setattr(http_post, "resolve", lambda host, port: ["93.184.215.14"])
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: pytest.fail("connected"))
    with pytest.raises(http_post.DeliveryRefused, match="plain http"):
        http_post.post("http://hooks.test/in", b"{}", {}, timeout=1, allow_loopback=True)


def test_a_slow_subscriber_times_out():
    with receiver() as subscriber:
        subscriber.plan = [("sleep", 1.0)]
        with pytest.raises(TimeoutError):
            http_post.post(subscriber.url, b"{}", {}, timeout=0.2, allow_loopback=True)
