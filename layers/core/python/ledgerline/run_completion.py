"""Finishing a large distribution run after its request answered 202 (docs/distributions.md).

On Lambda the distributions function invokes itself asynchronously with a `finish-run`
payload (Lambda retries a failed asynchronous invocation twice); anywhere else (the local
stack, tests) a background thread does the same work in-process. Finishing is safe to
repeat, and calculating the same cash-flow event again finishes the run too, so a lost
invocation leaves nothing that cannot be completed.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from ledgerline import aws
from ledgerline.domain.jsonio import dumps
from ledgerline.observability import logger

FINISH_RUN = "finish-run"


def finish_later(tenant: str, run_id: str, key_id: str, request_id: str) -> None:
    payload = {"ledgerline": FINISH_RUN, "tenant": tenant, "run_id": run_id, "key_id": key_id,
               "request_id": request_id}
    function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
    if function_name:
        aws.client("lambda").invoke(FunctionName=function_name, InvocationType="Event",
                                    Payload=dumps(payload).encode())
    else:
        threading.Thread(target=finish, args=(payload,), name=f"finish-{run_id}", daemon=True).start()


def is_finish_request(event: dict[str, Any]) -> bool:
    return event.get("ledgerline") == FINISH_RUN


def finish(event: dict[str, Any]) -> dict[str, Any]:
    """Complete the run named by a `finish-run` payload; answers its id and status."""
    from ledgerline.distributions import finish_calculation
    from ledgerline.store.records import EventContext

    context = EventContext(event["tenant"], event["request_id"], event["key_id"], None)
    run = finish_calculation(context, event["run_id"])
    logger.info("distribution run finished", extra={"run_id": event["run_id"], "status": run["status"]})
    return {"run_id": event["run_id"], "status": run["status"]}
