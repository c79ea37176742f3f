"""GET /api/tables/...: partners read back what they sent and what was derived, scoped to their key."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from ledgerline.api.caller import caller_from
from ledgerline.api.http import build_resolver, json_response, resolve
from ledgerline.api.problems import ProblemError
from ledgerline.observability import logger, metrics, tracer
from ledgerline.store.reads import READABLE_TABLES, get_record

app = build_resolver()


def _readable(table: str) -> str:
    if table not in READABLE_TABLES:
        raise ProblemError("not-found", f"Unknown table '{table}'.", tables=list(READABLE_TABLES))
    return table


@app.get("/api/tables/<table>/<record_id>")
@tracer.capture_method
def get_one(table: str, record_id: str) -> Response:
    caller = caller_from(app.current_event.raw_event.get("requestContext"), "read")
    record = get_record(caller.tenant_id, _readable(table), record_id)
    if record is None:
        raise ProblemError("not-found", f"No record '{record_id}' in table '{table}'.")
    return json_response({"table": table, "item": record})


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context)
