"""Lambda for the distribution routes (routes in ledgerline.api.distribution_routes).

It also receives its own asynchronous `finish-run` invocations, which complete runs too large
to finish within a request (ledgerline.run_completion).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from ledgerline import run_completion
from ledgerline.api import distribution_routes, idempotent
from ledgerline.api.http import build_resolver, resolve
from ledgerline.observability import logger, tracer

app = build_resolver()
app.include_router(distribution_routes.router)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if run_completion.is_finish_request(event):
        return run_completion.finish(event)
    idempotent.IDEMPOTENCY.register_lambda_context(context)
    return resolve(app, event, context)
