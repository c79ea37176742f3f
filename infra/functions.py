"""One Ledgerline Lambda: its own role, log group, layers and settings.

Every function is built the same way, so the differences between them (memory, timeout,
environment, permissions) are explicit where the stack creates them:
- arm64 + Python 3.13, handler `handler.handler` in `functions/<name>/`;
- the dependency layer and the shared code layer;
- JSON logs to its own log group with a retention, X-Ray active tracing;
- a dedicated role that starts with nothing but writing to that log group (and X-Ray);
  each table or secret grant is added by the caller.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra import nag
from infra.config import DeployConfig
from infra.layers import ARCHITECTURE, PYTHON_RUNTIME, Layers
from ledgerline import settings as env

HANDLER = "handler.handler"

# Powertools level names -> Lambda's advanced logging controls, kept equal so that neither
# side drops what the other lets through.
_APPLICATION_LOG_LEVEL = {
    "DEBUG": lambda_.ApplicationLogLevel.DEBUG,
    "INFO": lambda_.ApplicationLogLevel.INFO,
    "WARNING": lambda_.ApplicationLogLevel.WARN,
    "ERROR": lambda_.ApplicationLogLevel.ERROR,
}


def common_environment(config: DeployConfig) -> dict[str, str]:
    """What every Ledgerline handler reads, whatever its job."""
    return {
        "POWERTOOLS_SERVICE_NAME": "ledgerline",
        # One namespace per stage: dev and prod metrics in one account never merge.
        "POWERTOOLS_METRICS_NAMESPACE": f"Ledgerline/{config.stage}",
        "POWERTOOLS_LOG_LEVEL": config.log_level,
        env.PROBLEM_BASE: config.problem_base_url,
    }


class LedgerlineFunction(Construct):
    """`functions/<name>/handler.py` deployed as a least-privilege Lambda."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        description: str,
        project_root: Path,
        layers: Layers,
        config: DeployConfig,
        environment: dict[str, str],
        memory_size: int,
        timeout: Duration,
        background: bool = False,
    ) -> None:
        """`background`: no request starts it (a stream, a queue, a schedule), so Lambda samples its
        traces itself; it traces only with `trace_background` (infra/config.py)."""
        super().__init__(scope, construct_id)
        self.name = name

        self.log_group = logs.LogGroup(self, "Logs", retention=config.log_retention)

        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Ledgerline {name} function (least privilege)",
        )
        # Instead of AWSLambdaBasicExecutionRole (logs:* on every group): this group only.
        self.log_group.grant_write(self.role)

        self.function = lambda_.Function(
            self,
            "Function",
            description=description,
            runtime=PYTHON_RUNTIME,
            architecture=ARCHITECTURE,
            handler=HANDLER,
            code=lambda_.Code.from_asset(
                str(project_root / "functions" / name), exclude=["**/__pycache__", "**/*.pyc"]
            ),
            layers=layers.all,
            role=self.role,
            environment={**common_environment(config), **environment},
            memory_size=memory_size,
            timeout=timeout,
            tracing=lambda_.Tracing.PASS_THROUGH if background and not config.trace_background
            else lambda_.Tracing.ACTIVE,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=_APPLICATION_LOG_LEVEL[config.log_level],
            system_log_level_v2=lambda_.SystemLogLevel.INFO,
        )

        nag.acknowledge(
            self.function,
            "AwsSolutions-L1",
            "Pinned to Python 3.13 on purpose: the dependency layer is built from wheels for "
            "cp3.13/arm64 (infra/layers.py). Moving runtime and layer together is one constant.",
        )
        nag.acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            "Resource '*' only where the service has no resource-level permissions: X-Ray's "
            "PutTraceSegments/PutTelemetryRecords (added by active tracing) and, for the worker, "
            "dynamodb:ListStreams (added by the stream event source). tests/infra checks that no "
            "other statement of any role has a wildcard resource.",
        )
