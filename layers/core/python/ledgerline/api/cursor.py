"""Opaque, tamper-proof list cursors: signed with HMAC-SHA256, bound to tenant, table and filters.

A cursor carries DynamoDB's LastEvaluatedKey. Its signature covers the tenant and the exact
query (table and filters), so an edited cursor, one from another tenant or one replayed
against another query is refused (400) before it can steer a read. Only the exact text that
was issued is accepted: base64 variants that decode to the same bytes (padding, whitespace,
altered unused bits) are refused too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from ledgerline.api.problems import ProblemError
from ledgerline.domain.errors import Violation
from ledgerline.settings import secret_setting


def _secret() -> bytes:
    return secret_setting("cursor_secret", "cursor_secret_arn")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    """Decode only the canonical form `_b64` writes: no padding, no stray characters, no
    unused low bits set (any such variant decodes to the same bytes but is not what was issued)."""
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(data) != text:
        raise ValueError("not the canonical encoding")
    return data


def _scope(tenant: str, table: str, filters: dict[str, Any]) -> bytes:
    return json.dumps([tenant, table, filters], sort_keys=True, separators=(",", ":")).encode("utf-8")


def encode(tenant: str, table: str, filters: dict[str, Any], last_key: dict[str, Any]) -> str:
    payload = json.dumps(last_key, sort_keys=True, separators=(",", ":")).encode("utf-8")
    signature = hmac.new(_secret(), _scope(tenant, table, filters) + b"\n" + payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(signature)}"


def decode(cursor: str, tenant: str, table: str, filters: dict[str, Any]) -> dict[str, Any]:
    """The LastEvaluatedKey inside a cursor made for this tenant and query, else a 400 problem."""
    try:
        payload_text, signature_text = cursor.split(".")
        payload, signature = _unb64(payload_text), _unb64(signature_text)
        expected = hmac.new(_secret(), _scope(tenant, table, filters) + b"\n" + payload, hashlib.sha256).digest()
        if not hmac.compare_digest(signature, expected):
            raise ValueError("signature")
        last_key = json.loads(payload)
        if not isinstance(last_key, dict):
            raise ValueError("shape")
        return last_key
    except (ValueError, TypeError):
        raise ProblemError(
            "validation-error", "The cursor is not valid for this query.", status=400,
            errors=[Violation("cursor", "invalid-cursor",
                              "use the next_cursor of the previous page of the same query, unchanged").as_dict()],
        ) from None
