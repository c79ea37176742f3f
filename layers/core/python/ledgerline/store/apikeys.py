"""API keys: stored only as SHA-256 hashes, each bound to one tenant and a set of scopes.

Two items per key, written together: `K#{sha256}` answers the authorizer's lookup, and
`T#{tenant}#apikeys` / `{key_id}` lets an operator list and revoke a tenant's keys
without ever seeing a clear key again.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from ledgerline import aws
from ledgerline.domain.scopes import DEFAULT_SCOPES, SCOPES
from ledgerline.domain.values import ID_PATTERN
from ledgerline.settings import get_settings

_serialize = TypeSerializer().serialize
_deserialize = TypeDeserializer().deserialize


@dataclass(frozen=True)
class ApiKey:
    tenant_id: str
    key_id: str
    scopes: tuple[str, ...]
    status: str
    created_at: str
    usage_key: str | None = None
    description: str | None = None

    @property
    def active(self) -> bool:
        return self.status == "active"


def hash_key(clear_key: str) -> str:
    return hashlib.sha256(clear_key.encode("utf-8")).hexdigest()


def new_clear_key() -> str:
    return "ll_" + secrets.token_urlsafe(32)


def _lookup_key(key_hash: str) -> dict[str, Any]:
    return {"PK": {"S": f"K#{key_hash}"}, "SK": {"S": "key"}}


def _tenant_key(tenant_id: str, key_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"T#{tenant_id}#apikeys"}, "SK": {"S": key_id}}


def _from_item(item: dict[str, Any]) -> ApiKey:
    plain = {k: _deserialize(v) for k, v in item.items()}
    return ApiKey(
        tenant_id=plain["tenant_id"],
        key_id=plain["key_id"],
        scopes=tuple(sorted(plain.get("scopes", ()))),
        status=plain.get("status", "active"),
        created_at=plain.get("created_at", ""),
        usage_key=plain.get("usage_key"),
        description=plain.get("description"),
    )


def create_key(
    tenant_id: str,
    scopes: tuple[str, ...] | list[str] = DEFAULT_SCOPES,
    *,
    clear_key: str | None = None,
    usage_key: str | None = None,
    description: str | None = None,
) -> tuple[str, ApiKey]:
    """Store a new key; returns the clear key (shown once) and what was stored."""
    if not ID_PATTERN.fullmatch(tenant_id):
        raise ValueError(f"tenant id {tenant_id!r} must be 1-128 characters of A-Z a-z 0-9 . _ : -")
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise ValueError(f"scopes must be a non-empty subset of {SCOPES}, got {list(scopes)}")
    clear_key = clear_key or new_clear_key()
    key_hash = hash_key(clear_key)
    api_key = ApiKey(
        tenant_id=tenant_id,
        key_id="key_" + key_hash[:12],
        scopes=tuple(sorted(set(scopes))),
        status="active",
        created_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        usage_key=usage_key,
        description=description,
    )
    attributes = {
        "tenant_id": api_key.tenant_id,
        "key_id": api_key.key_id,
        "scopes": list(api_key.scopes),
        "status": api_key.status,
        "created_at": api_key.created_at,
        "key_hash": key_hash,
        **({"usage_key": usage_key} if usage_key else {}),
        **({"description": description} if description else {}),
    }
    serialized = {k: _serialize(v) for k, v in attributes.items()}
    table = get_settings().records_table
    aws.dynamodb().transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": {**_lookup_key(key_hash), **serialized},
                     "ConditionExpression": "attribute_not_exists(PK)"}},
            {"Put": {"TableName": table, "Item": {**_tenant_key(tenant_id, api_key.key_id), **serialized},
                     "ConditionExpression": "attribute_not_exists(PK)"}},
        ]
    )
    return clear_key, api_key


def find_key(clear_key: str) -> ApiKey | None:
    """The key's record, or None when it is unknown (revoked keys are returned, inactive)."""
    response = aws.dynamodb().get_item(
        TableName=get_settings().records_table, Key=_lookup_key(hash_key(clear_key)), ConsistentRead=True
    )
    item = response.get("Item")
    return _from_item(item) if item else None


def list_keys(tenant_id: str) -> list[ApiKey]:
    paginator = aws.dynamodb().get_paginator("query")
    pages = paginator.paginate(
        TableName=get_settings().records_table,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": f"T#{tenant_id}#apikeys"}},
    )
    return [_from_item(item) for page in pages for item in page["Items"]]


def revoke_key(tenant_id: str, key_id: str) -> bool:
    """Mark a tenant's key revoked; False when the tenant has no such key."""
    client = aws.dynamodb()
    table = get_settings().records_table
    item = client.get_item(TableName=table, Key=_tenant_key(tenant_id, key_id), ConsistentRead=True).get("Item")
    if not item:
        return False
    revoked = {":revoked": {"S": "revoked"}}
    client.transact_write_items(
        TransactItems=[
            {"Update": {"TableName": table, "Key": key, "UpdateExpression": "SET #s = :revoked",
                        "ExpressionAttributeNames": {"#s": "status"}, "ExpressionAttributeValues": revoked,
                        "ConditionExpression": "attribute_exists(PK)"}}
            for key in (_tenant_key(tenant_id, key_id), _lookup_key(item["key_hash"]["S"]))
        ]
    )
    return True
