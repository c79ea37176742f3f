"""Deploy-time settings: read from CDK context first, then the environment, then defaults.

Context comes from cdk.json or `cdk deploy -c key=value`; the environment variables let CI
and operators configure a deployment without editing files. Nothing here talks to AWS.

| setting | context key | environment variable | default |
| --- | --- | --- | --- |
| stage name (stack `Ledgerline-<stage>`, API stage) | `stage` | `LEDGERLINE_STAGE` | `dev` |
| target account | `account` | `LEDGERLINE_ACCOUNT`, then `CDK_DEFAULT_ACCOUNT` | environment-agnostic |
| target region | `region` | `LEDGERLINE_REGION`, then `CDK_DEFAULT_REGION` | environment-agnostic |
| per-key steady rate (requests/s) | `rate_limit` | `LEDGERLINE_RATE_LIMIT` | 25 |
| per-key burst | `burst_limit` | `LEDGERLINE_BURST_LIMIT` | 50 |
| per-key daily quota (requests) | `daily_quota` | `LEDGERLINE_DAILY_QUOTA` | 500000 |
| whole-stage steady rate | `stage_rate_limit` | `LEDGERLINE_STAGE_RATE_LIMIT` | 500 |
| whole-stage burst | `stage_burst_limit` | `LEDGERLINE_STAGE_BURST_LIMIT` | 1000 |
| authorizer cache TTL (s) | `authorizer_cache_seconds` | `LEDGERLINE_AUTHORIZER_CACHE_SECONDS` | 300 |
| log retention (days) | `log_retention_days` | `LEDGERLINE_LOG_RETENTION_DAYS` | 90 |
| Lambda log level | `log_level` | `LEDGERLINE_LOG_LEVEL` | `INFO` |
| problem type base URL | `problem_base` | `LEDGERLINE_PROBLEM_BASE` | `https://ledgerline.dev` |
| alarm e-mail (optional) | `alarm_email` | `LEDGERLINE_ALARM_EMAIL` | none |
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aws_cdk import aws_logs as logs
from constructs import Node

from ledgerline import settings as env

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_STAGE_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,19}$")

# CloudWatch Logs accepts only these retentions (CDK's enum is keyed by name, not days).
_RETENTION = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1096: logs.RetentionDays.THREE_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    2192: logs.RetentionDays.SIX_YEARS,
    2557: logs.RetentionDays.SEVEN_YEARS,
    2922: logs.RetentionDays.EIGHT_YEARS,
    3288: logs.RetentionDays.NINE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}


class ConfigError(ValueError):
    """A deploy-time setting is missing or invalid."""


@dataclass(frozen=True)
class DeployConfig:
    stage: str = "dev"
    account: str | None = None
    region: str | None = None
    rate_limit: int = 25
    burst_limit: int = 50
    daily_quota: int = 500_000
    stage_rate_limit: int = 500
    stage_burst_limit: int = 1_000
    authorizer_cache_seconds: int = 300
    log_retention_days: int = 90
    log_level: str = "INFO"
    problem_base: str = "https://ledgerline.dev"
    alarm_email: str | None = None
    demo_seed: bool = False  # POST /api/demo/seed (docs/distributions.md); never on a production stage

    def __post_init__(self) -> None:
        if not _STAGE_PATTERN.match(self.stage):
            raise ConfigError(f"stage must match {_STAGE_PATTERN.pattern}, got {self.stage!r}")
        for name in ("rate_limit", "burst_limit", "daily_quota", "stage_rate_limit", "stage_burst_limit"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.burst_limit < self.rate_limit:
            raise ConfigError("burst_limit must be at least rate_limit")
        if self.stage_rate_limit < self.rate_limit or self.stage_burst_limit < self.burst_limit:
            raise ConfigError("the whole-stage limits must be at least the per-key limits")
        # API Gateway caps the authorizer cache at one hour; 0 disables caching.
        if not 0 <= self.authorizer_cache_seconds <= 3600:
            raise ConfigError("authorizer_cache_seconds must be between 0 and 3600")
        if self.log_level not in LOG_LEVELS:
            raise ConfigError(f"log_level must be one of {LOG_LEVELS}, got {self.log_level!r}")
        if not self.problem_base.startswith("https://"):
            raise ConfigError("problem_base must be an https:// URL")
        if self.log_retention_days not in _RETENTION:
            raise ConfigError(
                f"log_retention_days must be one of CloudWatch Logs' retentions {sorted(_RETENTION)}, "
                f"got {self.log_retention_days}"
            )

    @property
    def stack_name(self) -> str:
        return f"Ledgerline-{self.stage}"

    @property
    def problem_base_url(self) -> str:
        return self.problem_base.rstrip("/")

    @property
    def log_retention(self) -> logs.RetentionDays:
        return _RETENTION[self.log_retention_days]


# (context key, environment variables in order, converter)
_SOURCES: dict[str, tuple[str, tuple[str, ...], Callable[[Any], Any]]] = {
    "stage": ("stage", ("LEDGERLINE_STAGE",), str),
    "account": ("account", ("LEDGERLINE_ACCOUNT", "CDK_DEFAULT_ACCOUNT"), str),
    "region": ("region", ("LEDGERLINE_REGION", "CDK_DEFAULT_REGION"), str),
    "rate_limit": ("rate_limit", ("LEDGERLINE_RATE_LIMIT",), int),
    "burst_limit": ("burst_limit", ("LEDGERLINE_BURST_LIMIT",), int),
    "daily_quota": ("daily_quota", ("LEDGERLINE_DAILY_QUOTA",), int),
    "stage_rate_limit": ("stage_rate_limit", ("LEDGERLINE_STAGE_RATE_LIMIT",), int),
    "stage_burst_limit": ("stage_burst_limit", ("LEDGERLINE_STAGE_BURST_LIMIT",), int),
    "authorizer_cache_seconds": ("authorizer_cache_seconds", ("LEDGERLINE_AUTHORIZER_CACHE_SECONDS",), int),
    "log_retention_days": ("log_retention_days", ("LEDGERLINE_LOG_RETENTION_DAYS",), int),
    "log_level": ("log_level", ("LEDGERLINE_LOG_LEVEL",), lambda v: str(v).upper()),
    "problem_base": ("problem_base", (env.PROBLEM_BASE,), str),
    "alarm_email": ("alarm_email", ("LEDGERLINE_ALARM_EMAIL",), str),
    "demo_seed": ("demo_seed", ("LEDGERLINE_DEPLOY_DEMO_SEED",), lambda v: str(v).lower() in ("1", "true", "yes")),
}


def load_config(node: Node, environ: Mapping[str, str] | None = None) -> DeployConfig:
    """Build the settings from the app's context (cdk.json, -c) and the environment."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for field, (context_key, env_names, convert) in _SOURCES.items():
        raw = node.try_get_context(context_key)
        if raw is None or raw == "":
            raw = next((environ[name] for name in env_names if environ.get(name)), None)
        if raw is None:
            continue
        try:
            values[field] = convert(raw)
        except (TypeError, ValueError) as error:
            raise ConfigError(f"{context_key}: cannot read {raw!r} ({error})") from error
    return DeployConfig(**values)
