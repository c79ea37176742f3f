"""The stream worker: derived rows and outgoing events from the records table's stream, and the daily sweep.

Two event shapes reach this function:
- DynamoDB Streams batches from the event source mapping (filtered by
  `ledgerline.store.schema.STREAM_FILTERS`): each record is handled on its own and only the
  failed ones are reported back (partial batch response), so Lambda retries from the first
  failure instead of the whole batch;
- `{"ledgerline": "sweep"}` from EventBridge Scheduler (optionally `"date": "YYYY-MM-DD"`).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ledgerline import worker
from ledgerline.observability import logger, metrics, tracer

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


@tracer.capture_method
def record_handler(record: DynamoDBRecord) -> None:
    worker.process_stream_record(record.raw_event)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if worker.is_sweep_request(event):
        return worker.sweep_request(event, context.get_remaining_time_in_millis)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
