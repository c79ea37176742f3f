"""The body of POST /ingest: a malformed body is explained in the partner's terms, never in the parser's."""

from __future__ import annotations

import base64

import pytest

from ledgerline.api.body import json_object_body
from ledgerline.api.problems import ProblemError


def detail_of(data: bytes) -> str:
    with pytest.raises(ProblemError) as refused:
        json_object_body(base64.b64encode(data).decode("ascii"), True, "application/json")
    assert refused.value.problem == "malformed-request"
    return refused.value.detail


@pytest.mark.parametrize(("data", "detail"), [
    ('{"category": "client", "data": {"name": "Zoé"}}'.encode("latin-1"), "The body is not UTF-8 text."),
    (b'{"amount": ' + b"9" * 5000 + b"}", "The body is not valid JSON: a number has too many digits."),
    (b'{"category": "client",\n "data": {,}}', "The body is not valid JSON: invalid JSON at line 2 column 11."),
    (b"", "The body is not valid JSON: invalid JSON at line 1 column 1."),
    (b'{"a": 1, "a": 2}', "The body is not usable JSON: duplicate object key 'a'."),
], ids=["latin-1", "5000-digits", "syntax", "empty", "duplicate-key"])
def test_a_malformed_body_is_explained_without_parser_internals(data, detail):
    assert detail_of(data) == detail


def test_no_detail_echoes_the_parser():
    for data in ('{"name": "é"}'.encode("latin-1"), b'{"n": ' + b"1" * 4301 + b"}"):
        detail = detail_of(data)
        assert "codec" not in detail and "position" not in detail and "4300" not in detail
        assert "limit" not in detail and "sys.set_int_max_str_digits" not in detail
