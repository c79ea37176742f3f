"""Alarms and the operations dashboard.

Alarms notify one SNS topic (optionally an e-mail subscription). docs/operations.md says what
to do when each fires. Functions added later (the stream worker) register themselves with
`watch_function`, and add their own alarms (iterator age, DLQ depth) with `add_alarm`.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra.config import DeployConfig

PERIOD = Duration.minutes(5)
# API 5XX alarm: more than 1 % of requests over two consecutive 5-minute periods, and only
# once there are enough requests for a percentage to mean something.
API_5XX_PERCENT = 1
API_5XX_MIN_REQUESTS = 20
# Lambda errors (unhandled exceptions, timeouts): a few in 5 minutes is already an incident,
# because the handlers turn every expected failure into a problem response.
FUNCTION_ERRORS = 3
# Any throttle means partners are being refused by Lambda, not by their own usage plan.
FUNCTION_THROTTLES = 1
# DynamoDB: the SDK retries a throttled request, so one spike is absorbed; throttling in two
# consecutive 5-minute periods means on-demand capacity or a hot partition is holding callers up.
TABLE_THROTTLE_PERIODS = 2
# DynamoDB answers in single-digit milliseconds; a p99 above this for 15 minutes is a service or
# hot-partition problem that partners feel on every request.
TABLE_LATENCY_P99_MS = 100
TABLE_LATENCY_PERIODS = 3
TABLE_OPERATIONS = ("GetItem", "BatchGetItem", "Query", "PutItem", "UpdateItem", "TransactWriteItems")


class Monitoring(Construct):
    """Alarm topic, alarms, and a dashboard of the API, the functions and the tables."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeployConfig,
        rest_api: apigw.RestApi,
        tables: dict[str, dynamodb.ITable],
    ) -> None:
        super().__init__(scope, construct_id)
        self._prefix = f"ledgerline-{config.stage}"
        self.alarms: list[cloudwatch.Alarm] = []

        self.topic = sns.Topic(
            self, "AlarmTopic", display_name=f"Ledgerline {config.stage} alarms", enforce_ssl=True
        )
        if config.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))
        self._action = cloudwatch_actions.SnsAction(self.topic)

        self.dashboard = cloudwatch.Dashboard(
            self, "Dashboard", dashboard_name=self._prefix, default_interval=Duration.hours(6)
        )
        self._watch_api(rest_api)
        self._watch_tables(tables)

    def add_alarm(self, alarm: cloudwatch.Alarm) -> cloudwatch.Alarm:
        """Route an alarm to the topic (alarm and back to OK) and list it on the dashboard."""
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
        self.alarms.append(alarm)
        return alarm

    def alarm_above(
        self,
        scope: Construct,
        construct_id: str,
        metric: cloudwatch.IMetric,
        *,
        name: str,
        description: str,
        threshold: float,
        periods: int = 1,
        or_equal: bool = False,
    ) -> cloudwatch.Alarm:
        """An alarm when `metric` is above `threshold` for `periods` periods (no data: fine), routed and listed."""
        operator = (cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD if or_equal
                    else cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD)
        return self.add_alarm(metric.create_alarm(
            scope,
            construct_id,
            alarm_name=f"{self._prefix}-{name}",
            alarm_description=description,
            threshold=threshold,
            evaluation_periods=periods,
            **({"datapoints_to_alarm": periods} if periods > 1 else {}),
            comparison_operator=operator,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        ))

    def watch_function(self, name: str, function: lambda_.IFunction) -> None:
        """Errors and throttles alarms, plus a dashboard row, for one function."""
        errors = function.metric_errors(period=PERIOD, statistic="Sum")
        throttles = function.metric_throttles(period=PERIOD, statistic="Sum")
        self.alarm_above(
            self, f"{name.title()}Errors", errors, name=f"{name}-errors",
            description=f"The {name} function failed (unhandled error or timeout) "
            f"{FUNCTION_ERRORS}+ times in 5 minutes. See docs/operations.md#alarms.",
            threshold=FUNCTION_ERRORS, or_equal=True,
        )
        self.alarm_above(
            self, f"{name.title()}Throttles", throttles, name=f"{name}-throttles",
            description=f"Lambda throttled the {name} function (concurrency limit "
            "reached). See docs/operations.md#alarms.",
            threshold=FUNCTION_THROTTLES, or_equal=True,
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title=f"{name}: invocations, errors, throttles",
                left=[function.metric_invocations(period=PERIOD, statistic="Sum"), errors, throttles],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title=f"{name}: duration",
                left=[
                    function.metric_duration(period=PERIOD, statistic="p50"),
                    function.metric_duration(period=PERIOD, statistic="p99"),
                ],
                width=12,
            ),
        )

    def finish(self) -> None:
        """Add the alarm status row; call once, after every alarm is registered."""
        self.dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms), width=24)
        )

    def _watch_api(self, rest_api: apigw.RestApi) -> None:
        requests = rest_api.metric_count(period=PERIOD, statistic="Sum")
        server_errors = rest_api.metric_server_error(period=PERIOD, statistic="Sum")
        client_errors = rest_api.metric_client_error(period=PERIOD, statistic="Sum")
        error_rate = cloudwatch.MathExpression(
            expression=f"IF(requests >= {API_5XX_MIN_REQUESTS}, 100 * errors / requests, 0)",
            using_metrics={"requests": requests, "errors": server_errors},
            label="5XX %",
            period=PERIOD,
        )
        self.alarm_above(
            self, "Api5xxRate", error_rate, name="api-5xx-rate",
            description=f"More than {API_5XX_PERCENT}% of API requests answered 5XX for "
            "10 minutes. See docs/operations.md#alarms.",
            threshold=API_5XX_PERCENT, periods=2,
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="API: requests and errors", left=[requests, client_errors, server_errors], width=12
            ),
            cloudwatch.GraphWidget(
                title="API: latency",
                left=[
                    rest_api.metric_latency(period=PERIOD, statistic="p50"),
                    rest_api.metric_latency(period=PERIOD, statistic="p99"),
                    rest_api.metric_integration_latency(period=PERIOD, statistic="p99"),
                ],
                right=[error_rate],
                width=12,
            ),
        )

    def _watch_tables(self, tables: dict[str, dynamodb.ITable]) -> None:
        for name, table in tables.items():
            throttles = cloudwatch.MathExpression(
                expression="reads + writes",
                using_metrics={
                    "reads": table.metric("ReadThrottleEvents", period=PERIOD, statistic="Sum"),
                    "writes": table.metric("WriteThrottleEvents", period=PERIOD, statistic="Sum"),
                },
                label=f"{name} throttle events",
                period=PERIOD,
            )
            self.alarm_above(
                self, f"{name.title()}TableThrottles", throttles, name=f"{name}-table-throttles",
                description=f"DynamoDB throttled requests to the {name} table in {TABLE_THROTTLE_PERIODS} "
                "consecutive 5-minute periods. See docs/operations.md#table-alarms.",
                threshold=0, periods=TABLE_THROTTLE_PERIODS,
            )
            latency = cloudwatch.MathExpression(
                expression=f"MAX([{', '.join(f'op{i}' for i in range(len(TABLE_OPERATIONS)))}])",
                using_metrics={
                    f"op{i}": table.metric_successful_request_latency(
                        dimensions_map={"TableName": table.table_name, "Operation": operation},
                        period=PERIOD, statistic="p99",
                    )
                    for i, operation in enumerate(TABLE_OPERATIONS)
                },
                label=f"{name} p99 latency (slowest operation)",
                period=PERIOD,
            )
            self.alarm_above(
                self, f"{name.title()}TableLatency", latency, name=f"{name}-table-latency",
                description=f"The p99 latency of an operation on the {name} table stayed above "
                f"{TABLE_LATENCY_P99_MS} ms for 15 minutes. See docs/operations.md#table-alarms.",
                threshold=TABLE_LATENCY_P99_MS, periods=TABLE_LATENCY_PERIODS,
            )
            self.dashboard.add_widgets(
                cloudwatch.GraphWidget(
                    title=f"{name} table: consumed capacity",
                    left=[
                        table.metric_consumed_read_capacity_units(period=PERIOD, statistic="Sum"),
                        table.metric_consumed_write_capacity_units(period=PERIOD, statistic="Sum"),
                    ],
                    width=12,
                ),
                cloudwatch.GraphWidget(
                    title=f"{name} table: throttles and system errors",
                    left=[
                        table.metric("ReadThrottleEvents", period=PERIOD, statistic="Sum"),
                        table.metric("WriteThrottleEvents", period=PERIOD, statistic="Sum"),
                        table.metric_system_errors_for_operations(period=PERIOD),
                    ],
                    width=12,
                ),
            )
