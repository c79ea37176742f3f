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
| alarm e-mail | `alarm_email` | `LEDGERLINE_ALARM_EMAIL` | none |
| WAF web ACL on the API stage | `waf` | `LEDGERLINE_WAF` | on for `prod`, off otherwise |
| WAF requests per client IP per 5 minutes | `waf_ip_limit` | `LEDGERLINE_WAF_IP_LIMIT` | 2 x `rate_limit` x 300 |
| `POST /api/demo/seed` answers (never on `prod`) | `demo_seed` | `LEDGERLINE_DEPLOY_DEMO_SEED` | off |
| API requests traced by X-Ray (percent, no per-second reservoir) | `trace_percent` | `LEDGERLINE_TRACE_PERCENT` | 5 |
| X-Ray traces of the worker and the webhook delivery function | `trace_background` | `LEDGERLINE_TRACE_BACKGROUND` | off |

The production stage (`prod`) refuses to synthesize without an explicit account, region and
alarm e-mail (context or `LEDGERLINE_*` variables; the CLI's `CDK_DEFAULT_*` do not count, so
a prod stack never lands in whatever account the shell's credentials point at). It pins the
stack to that account and region and turns termination protection on. `make` passes its
`ACCOUNT`, `REGION` and `ALARM_EMAIL` variables as `LEDGERLINE_ACCOUNT`, ... (infra/make.mk).
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
PRODUCTION_STAGE = "prod"
# What a production deploy must name explicitly: setting -> (make variable, context key).
_PRODUCTION_REQUIRED = {"account": ("ACCOUNT", "account"), "region": ("REGION", "region"),
                        "alarm_email": ("ALARM_EMAIL", "alarm_email")}
# Account and region the CDK CLI derives from the shell's credentials.
_CLI_DEFAULTS = {"CDK_DEFAULT_ACCOUNT", "CDK_DEFAULT_REGION"}
# WAF rate-based rules count requests per IP over 5 minutes; AWS accepts 10 to 2e9.
WAF_WINDOW_SECONDS = 300
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
    waf: bool | None = None  # None: on for the production stage only
    waf_ip_limit: int | None = None  # None: twice one key's steady rate over the window
    demo_seed: bool = False  # POST /api/demo/seed (docs/distributions.md); never on a production stage
    # X-Ray: the share of API requests traced (the stage's own sampling rule, without the default
    # rule's first-request-each-second reservoir, which at a few events a second traces nearly
    # all of them), and whether the functions no request starts (the worker, webhook delivery)
    # trace at all: Lambda samples those itself, 1 a second and 5 % beyond, not configurable.
    trace_percent: float = 5.0
    trace_background: bool = False

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
        if self.alarm_email is not None and "@" not in self.alarm_email:
            raise ConfigError(f"alarm_email must be an e-mail address, got {self.alarm_email!r}")
        # One partner key at its full steady rate from one address must never hit the WAF.
        if not self.rate_limit * WAF_WINDOW_SECONDS <= self.web_acl_ip_limit <= 2_000_000_000:
            raise ConfigError(
                f"waf_ip_limit must be between rate_limit x {WAF_WINDOW_SECONDS} s "
                f"({self.rate_limit * WAF_WINDOW_SECONDS}) and 2000000000, got {self.web_acl_ip_limit}"
            )
        if not 0 <= self.trace_percent <= 100:
            raise ConfigError(f"trace_percent must be between 0 and 100, got {self.trace_percent}")
        if self.is_production and self.demo_seed:
            raise ConfigError("demo_seed cannot be on for the production stage")
        if self.is_production:
            missing = [(variable, key) for name, (variable, key) in _PRODUCTION_REQUIRED.items()
                       if not getattr(self, name)]
            if missing:
                names = ", ".join(variable for variable, _ in missing)
                raise ConfigError(
                    f"stage {self.stage} needs {names}. Give each as a make variable "
                    f"(make deploy STAGE={self.stage} {' '.join(f'{v}=...' for v, _ in missing)}), "
                    f"an environment variable ({', '.join(f'LEDGERLINE_{v}' for v, _ in missing)}) "
                    f"or cdk.json context ({', '.join(repr(key) for _, key in missing)})."
                )

    @property
    def is_production(self) -> bool:
        return self.stage == PRODUCTION_STAGE

    @property
    def web_acl(self) -> bool:
        """Whether a WAF web ACL guards the API stage."""
        return self.is_production if self.waf is None else self.waf

    @property
    def web_acl_ip_limit(self) -> int:
        """Requests one client IP may send per WAF window before it is blocked."""
        return self.waf_ip_limit if self.waf_ip_limit is not None else 2 * self.rate_limit * WAF_WINDOW_SECONDS

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
    "waf": ("waf", ("LEDGERLINE_WAF",), lambda v: _boolean(v)),
    "waf_ip_limit": ("waf_ip_limit", ("LEDGERLINE_WAF_IP_LIMIT",), int),
    "demo_seed": ("demo_seed", ("LEDGERLINE_DEPLOY_DEMO_SEED",), lambda v: _boolean(v)),
    "trace_percent": ("trace_percent", ("LEDGERLINE_TRACE_PERCENT",), float),
    "trace_background": ("trace_background", ("LEDGERLINE_TRACE_BACKGROUND",), lambda v: _boolean(v)),
}


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise ValueError("expected true or false")


def load_config(node: Node, environ: Mapping[str, str] | None = None) -> DeployConfig:
    """Build the settings from the app's context (cdk.json, -c) and the environment."""
    environ = os.environ if environ is None else environ
    stage = node.try_get_context("stage") or environ.get("LEDGERLINE_STAGE") or DeployConfig.stage
    values: dict[str, Any] = {}
    for field, (context_key, env_names, convert) in _SOURCES.items():
        if stage == PRODUCTION_STAGE:
            env_names = tuple(name for name in env_names if name not in _CLI_DEFAULTS)
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
