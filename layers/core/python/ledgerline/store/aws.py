"""Cached AWS clients: created on first use, never at import, so moto fixtures need no reloads."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10)


@cache
def dynamodb() -> Any:
    """Low-level DynamoDB client (endpoint from AWS_ENDPOINT_URL when set)."""
    return boto3.client("dynamodb", config=_CONFIG)


def reset_clients() -> None:
    """Forget cached clients (tests switch endpoints and credentials)."""
    dynamodb.cache_clear()
