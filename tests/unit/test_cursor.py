"""Cursors are opaque and bound to the tenant and the exact query."""

from __future__ import annotations

import pytest

from ledgerline.api import cursor
from ledgerline.api.problems import ProblemError

KEY = {"PK": {"S": "T#t1#clients#C1"}, "SK": {"S": "v0"}, "GSI1PK": {"S": "T#t1#clients"}}
FILTERS = {"disbursement_id": None, "client_id": None, "updated_since": None}


def test_a_cursor_round_trips_for_the_same_tenant_and_query():
    token = cursor.encode("t1", "clients", FILTERS, KEY)
    assert cursor.decode(token, "t1", "clients", FILTERS) == KEY


@pytest.mark.parametrize("tenant, table, filters", [
    ("t2", "clients", FILTERS),
    ("t1", "payments", FILTERS),
    ("t1", "clients", {**FILTERS, "updated_since": "2024-01-01"}),
])
def test_a_cursor_is_refused_for_another_tenant_or_query(tenant, table, filters):
    token = cursor.encode("t1", "clients", FILTERS, KEY)
    with pytest.raises(ProblemError) as refused:
        cursor.decode(token, tenant, table, filters)
    assert refused.value.status == 400


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "!!!.???", "e30.AAAA"])
def test_garbage_is_refused(token):
    with pytest.raises(ProblemError):
        cursor.decode(token, "t1", "clients", FILTERS)


def _variants(token: str) -> list[str]:
    """Texts that base64-decode to the same bytes as `token` but are not what was issued."""
    payload, signature = token.split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(signature[-1])
    unused_bits = {2: 4, 3: 2}[len(signature) % 4]  # a 32-byte signature leaves 2 or 4 unused bits
    other_last = alphabet[last ^ 1]
    assert last >> unused_bits == alphabet.index(other_last) >> unused_bits
    return [token + "==", f"{payload}.{signature}=", " " + token, token + " ", token + "\n",
            f"{payload}.{signature[:-1]}{other_last}", f"{payload[:4]}\n{payload[4:]}.{signature}"]


def test_only_the_exact_text_issued_is_accepted():
    token = cursor.encode("t1", "clients", FILTERS, KEY)
    for variant in _variants(token):
        with pytest.raises(ProblemError) as refused:
            cursor.decode(variant, "t1", "clients", FILTERS)
        assert refused.value.status == 400, variant
