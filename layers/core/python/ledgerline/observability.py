"""Logger, Metrics and Tracer: one neutral place every module imports them from."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger(service="ledgerline")
metrics = Metrics(namespace="Ledgerline", service="ledgerline")
tracer = Tracer(service="ledgerline")
