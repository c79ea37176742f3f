"""POSTing a webhook delivery to a subscriber, safe from server-side request forgery.

The host name is resolved once here, every address it resolves to is checked
(`domain.webhooks.address_refusal`), and the connection goes to the checked address: a DNS
answer that changes between the check and the connection (rebinding) cannot redirect it. TLS
still verifies the certificate against the host name. Redirects are not followed.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from ledgerline.domain.webhooks import address_refusal, all_loopback

MAX_ANSWER_BYTES = 64 * 1024  # what is read of the subscriber's answer (it is not kept)


class DeliveryRefused(Exception):
    """The URL's host does not resolve, or resolves to an address deliveries may not reach."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str


def target(url: str) -> Target:
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80), path)


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (empty when it does not resolve)."""
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    return list(dict.fromkeys(str(info[4][0]) for info in answers))


def checked_address(where: Target, allow_loopback: bool) -> str:
    addresses = resolve(where.host, where.port)
    if not addresses:
        raise DeliveryRefused(f"{where.host} does not resolve")
    refused = [f"{address} ({reason})" for address in addresses if (reason := address_refusal(address, allow_loopback))]
    if refused:
        raise DeliveryRefused(f"{where.host} resolves to {', '.join(refused)}")
    if where.scheme != "https" and not all_loopback(addresses):
        raise DeliveryRefused(f"{where.host} no longer resolves to loopback: plain http only goes there")
    return addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, where: Target, address: str, timeout: float) -> None:
        super().__init__(where.host, where.port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, where: Target, address: str, timeout: float) -> None:
        super().__init__(where.host, where.port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float, allow_loopback: bool) -> int:
    """POST `body` to `url`; the answer's status code. Raises DeliveryRefused for a refused
    address, OSError (socket.timeout included) when the subscriber cannot be reached in time."""
    where = target(url)
    address = checked_address(where, allow_loopback)
    connection_type = _PinnedHTTPSConnection if where.scheme == "https" else _PinnedHTTPConnection
    connection = connection_type(where, address, timeout)
    try:
        connection.request("POST", where.path, body=body, headers={**headers, "Content-Type": "application/json"})
        answer = connection.getresponse()
        answer.read(MAX_ANSWER_BYTES)
        return answer.status
    except http.client.HTTPException as error:
        raise OSError(f"bad HTTP answer: {type(error).__name__}") from error
    finally:
        connection.close()
