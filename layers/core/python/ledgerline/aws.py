"""The one AWS client factory: clients created on first use, never at import, and cached per
(service, endpoint); `reset()` forgets them all (tests, the admin CLI and the local stack switch
endpoints and credentials)."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10)


@cache
def client(service: str, endpoint_url: str | None = None) -> Any:
    """A low-level client (endpoint from AWS_ENDPOINT_URL[_<SERVICE>] when `endpoint_url` is None)."""
    return boto3.client(service, config=_CONFIG, endpoint_url=endpoint_url)


def dynamodb() -> Any:
    return client("dynamodb")


def reset() -> None:
    client.cache_clear()
