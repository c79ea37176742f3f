"""GET /validator: one self-contained page where a partner checks an event through POST /validate.

No key is needed to load it and it loads nothing from elsewhere (its Content-Security-Policy
allows only its own inline code and calls to this API). The examples it offers are those of
docs/payloads/ (a test keeps the two equal).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

router = APIGatewayRouter()
HERE = Path(__file__).parent
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                               "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def examples() -> list[dict]:
    """`[{"category", "title", "event"}]`: one or more ready-to-send events per category."""
    return json.loads((HERE / "validator_examples.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def page() -> str:
    embedded = json.dumps(examples()).replace("</", "<\\/")
    return (HERE / "validator.html").read_text(encoding="utf-8").replace("__EXAMPLES__", embedded)


@router.get("/validator", include_in_schema=False)
def validator():
    return Response(status_code=200, content_type="text/html; charset=utf-8", body=page(), headers=SECURITY_HEADERS)
