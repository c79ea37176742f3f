"""Request headers and body of POST /ingest: size, media type, JSON, Idempotency-Key."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from ledgerline.api.problems import ProblemError
from ledgerline.domain.jsonio import DuplicateKeyError, UnusableJsonError, loads

MAX_BODY_BYTES = 256 * 1024
_IDEMPOTENCY_KEY = re.compile(r"[\x20-\x7e]{1,255}")


def idempotency_key(headers: dict[str, str]) -> str:
    key = headers.get("Idempotency-Key")  # Powertools' header view is case-insensitive
    if key is None:
        raise ProblemError("idempotency-key-missing", "POST /ingest needs an Idempotency-Key header.")
    return checked_idempotency_key(key)


def checked_idempotency_key(key: str) -> str:
    if not _IDEMPOTENCY_KEY.fullmatch(key):
        raise ProblemError("idempotency-key-missing",
                           "Idempotency-Key must be 1-255 printable ASCII characters.")
    return key


def json_object_body(raw: str | None, is_base64: bool, content_type: str | None) -> dict[str, Any]:
    data = (base64.b64decode(raw or "") if is_base64 else (raw or "").encode("utf-8"))
    if len(data) > MAX_BODY_BYTES:
        raise ProblemError("payload-too-large", f"The body is {len(data)} bytes; the limit is {MAX_BODY_BYTES}.")
    media_type = (content_type or "application/json").split(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise ProblemError("unsupported-media-type", "Send the event as application/json.")
    try:
        body = loads(data)
    except ValueError as error:  # UnicodeDecodeError and JSONDecodeError are ValueErrors too
        raise ProblemError("malformed-request", _what_is_wrong(error)) from None
    if not isinstance(body, dict):
        raise ProblemError("malformed-request", "The body must be a JSON object.")
    return body


def _what_is_wrong(error: ValueError) -> str:
    """Why the body could not be read, in the partner's terms (never the parser's own words)."""
    if isinstance(error, UnicodeDecodeError):
        return "The body is not UTF-8 text."
    if isinstance(error, json.JSONDecodeError):
        return f"The body is not valid JSON: invalid JSON at line {error.lineno} column {error.colno}."
    if isinstance(error, (DuplicateKeyError, UnusableJsonError)):
        return f"The body is not usable JSON: {error}."
    if "digits" in str(error):  # the interpreter's limit on the length of integers
        return "The body is not valid JSON: a number has too many digits."
    return "The body is not valid JSON."
