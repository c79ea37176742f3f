"""Environment read once into a typed settings object."""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, Field


class Settings(BaseModel):
    records_table: str = Field(description="the single table holding records, versions, keys and guards")
    idempotency_table: str = Field(description="Powertools' idempotency table")
    problem_base: str = Field(description="base URL of problem type URIs")
    idempotency_ttl_seconds: int = 86_400
    max_write_attempts: int = 12
    event_bus_name: str = Field("ledgerline-events", description="EventBridge bus the worker publishes to")
    worker_dlq_url: str | None = Field(None, description="SQS queue for stream records the worker gave up on")
    worker_max_attempts: int = Field(3, description="deliveries of a failing stream record before the dead-letter queue")
    sweep_lookback_days: int = Field(2, description="past due days every sweep run reads again, watermark or not")
    cursor_secret: str | None = Field(default=None, description="cursor signing key (local stack, tests)")
    cursor_secret_arn: str | None = Field(default=None, description="Secrets Manager secret holding the key")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    env = os.environ
    return Settings(
        records_table=env.get("LEDGERLINE_TABLE", "ledgerline-records"),
        idempotency_table=env.get("LEDGERLINE_IDEMPOTENCY_TABLE", "ledgerline-idempotency"),
        problem_base=env.get("LEDGERLINE_PROBLEM_BASE", "https://ledgerline.dev").rstrip("/"),
        idempotency_ttl_seconds=int(env.get("LEDGERLINE_IDEMPOTENCY_TTL_SECONDS", "86400")),
        max_write_attempts=int(env.get("LEDGERLINE_MAX_WRITE_ATTEMPTS", "12")),
        event_bus_name=env.get("LEDGERLINE_EVENT_BUS", "ledgerline-events"),
        worker_dlq_url=env.get("LEDGERLINE_WORKER_DLQ_URL") or None,
        worker_max_attempts=int(env.get("LEDGERLINE_WORKER_MAX_ATTEMPTS", "3")),
        sweep_lookback_days=int(env.get("LEDGERLINE_SWEEP_LOOKBACK_DAYS", "2")),
        cursor_secret=env.get("LEDGERLINE_CURSOR_SECRET") or None,
        cursor_secret_arn=env.get("LEDGERLINE_CURSOR_SECRET_ARN") or None,
    )
