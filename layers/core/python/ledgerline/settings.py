"""The environment, read once into a validated settings object that fails fast.

No name has a default: a function started without the records table refuses to run and names
what is missing, instead of quietly using a table that is not its own; the names only some
functions use (idempotency table, event bus, dead-letter queue) are checked where they are
needed (`Settings.need`). The variable names are
constants here; the CDK stack, the local stack and the tests import them. Secrets never sit in
the environment of a deployed function: it gets the secret's ARN, and `api.cursor` reads it
with Powertools parameters (cached).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

# Environment variable names.
TABLE = "LEDGERLINE_TABLE"
IDEMPOTENCY_TABLE = "LEDGERLINE_IDEMPOTENCY_TABLE"
PROBLEM_BASE = "LEDGERLINE_PROBLEM_BASE"
IDEMPOTENCY_TTL_SECONDS = "LEDGERLINE_IDEMPOTENCY_TTL_SECONDS"
MAX_WRITE_ATTEMPTS = "LEDGERLINE_MAX_WRITE_ATTEMPTS"
EVENT_BUS = "LEDGERLINE_EVENT_BUS"
WORKER_DLQ_URL = "LEDGERLINE_WORKER_DLQ_URL"
WORKER_MAX_ATTEMPTS = "LEDGERLINE_WORKER_MAX_ATTEMPTS"
SWEEP_LOOKBACK_DAYS = "LEDGERLINE_SWEEP_LOOKBACK_DAYS"
CURSOR_SECRET = "LEDGERLINE_CURSOR_SECRET"
CURSOR_SECRET_ARN = "LEDGERLINE_CURSOR_SECRET_ARN"
DEMO_SEED = "LEDGERLINE_DEMO_SEED"
WEBHOOK_KEY = "LEDGERLINE_WEBHOOK_KEY"
WEBHOOK_KEY_ARN = "LEDGERLINE_WEBHOOK_KEY_ARN"
WEBHOOK_QUEUE_URL = "LEDGERLINE_WEBHOOK_QUEUE_URL"
WEBHOOK_DLQ_URL = "LEDGERLINE_WEBHOOK_DLQ_URL"
WEBHOOK_TIMEOUT_SECONDS = "LEDGERLINE_WEBHOOK_TIMEOUT_SECONDS"
WEBHOOK_ALLOW_LOOPBACK = "LEDGERLINE_WEBHOOK_ALLOW_LOOPBACK"


class SettingsError(RuntimeError):
    """The environment lacks a required variable or holds an invalid value."""


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    records_table: str = Field(alias=TABLE, min_length=1,
                               description="the single table holding records, versions, keys and guards")
    # Names only some functions use: unset is fine until a function needs one (`need`).
    idempotency_table: str | None = Field(None, alias=IDEMPOTENCY_TABLE, description="Powertools' idempotency table")
    problem_base: str = Field("https://ledgerline.dev", alias=PROBLEM_BASE, description="base URL of problem type URIs")
    idempotency_ttl_seconds: int = Field(86_400, alias=IDEMPOTENCY_TTL_SECONDS, gt=0)
    max_write_attempts: int = Field(12, alias=MAX_WRITE_ATTEMPTS, ge=1)
    event_bus_name: str | None = Field(None, alias=EVENT_BUS, description="EventBridge bus the worker publishes to")
    worker_dlq_url: str | None = Field(None, alias=WORKER_DLQ_URL,
                                       description="SQS queue for stream records the worker gave up on")
    worker_max_attempts: int = Field(3, alias=WORKER_MAX_ATTEMPTS, ge=1,
                                     description="deliveries of a failing stream record before the dead-letter queue")
    sweep_lookback_days: int = Field(2, alias=SWEEP_LOOKBACK_DAYS, ge=0,
                                     description="past due days every sweep run reads again, watermark or not")
    cursor_secret: str | None = Field(None, alias=CURSOR_SECRET, description="cursor signing key (local stack, tests)")
    cursor_secret_arn: str | None = Field(None, alias=CURSOR_SECRET_ARN,
                                          description="Secrets Manager secret holding the key")

    demo_seed: bool = Field(False, alias=DEMO_SEED,
                            description="POST /api/demo/seed answers (the local stack; off on AWS unless deployed so)")
    webhook_key: str | None = Field(None, alias=WEBHOOK_KEY,
                                    description="key webhook signing secrets are derived from (local stack, tests)")
    webhook_key_arn: str | None = Field(None, alias=WEBHOOK_KEY_ARN,
                                        description="Secrets Manager secret holding the webhook key")
    webhook_queue_url: str | None = Field(None, alias=WEBHOOK_QUEUE_URL,
                                          description="SQS queue of outgoing events and webhook deliveries")
    webhook_dlq_url: str | None = Field(None, alias=WEBHOOK_DLQ_URL,
                                        description="SQS queue of webhook deliveries given up after 24 h")
    webhook_timeout_seconds: float = Field(10.0, alias=WEBHOOK_TIMEOUT_SECONDS, gt=0,
                                           description="how long a subscriber has to answer a delivery")
    webhook_allow_loopback: bool = Field(False, alias=WEBHOOK_ALLOW_LOOPBACK,
                                         description="webhooks may target loopback addresses over http (local stack)")

    def need(self, field: str) -> str:
        """The value of an optional setting this caller cannot do without; SettingsError naming
        its environment variable when it is unset."""
        value = getattr(self, field)
        if not value:
            raise SettingsError(f"{type(self).model_fields[field].alias} is not set")
        return value

    @field_validator("idempotency_table", "event_bus_name", "worker_dlq_url", "cursor_secret", "cursor_secret_arn",
                     "webhook_key", "webhook_key_arn", "webhook_queue_url", "webhook_dlq_url", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return value or None

    @field_validator("problem_base")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")


def secret_setting(clear_field: str, arn_field: str) -> bytes:
    """A key given in clear (local stack, tests) or as a Secrets Manager secret, read with
    Powertools parameters (cached for an hour); SettingsError naming both variables when neither is set."""
    settings = get_settings()
    clear, arn = getattr(settings, clear_field), getattr(settings, arn_field)
    if clear:
        return clear.encode("utf-8")
    if arn:
        from aws_lambda_powertools.utilities.parameters import get_secret

        return str(get_secret(arn, max_age=3600)).encode("utf-8")
    fields = type(settings).model_fields
    raise SettingsError(f"set {fields[clear_field].alias} or {fields[arn_field].alias}")


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Settings from an environment; SettingsError naming every missing or invalid variable."""
    try:
        return Settings.model_validate(dict(environ))
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise SettingsError(f"invalid environment: {problems}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings(os.environ)
