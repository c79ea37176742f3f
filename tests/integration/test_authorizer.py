"""The REQUEST authorizer over moto: keys by hash, scopes as routes, 401 without hints."""

from __future__ import annotations

from typing import Any

import pytest

from ledgerline.store.apikeys import create_key, find_key, list_keys, revoke_key
from local.gateway import _allowed
from tests.builders import FakeLambdaContext

ARN = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod"


def authorize(authorization: str | None, method: str = "POST", path: str = "/ingest") -> dict[str, Any]:
    from functions.authorizer.handler import handler

    headers = {"Authorization": authorization} if authorization is not None else {}
    event = {"type": "REQUEST", "methodArn": f"{ARN}/{method}{path}", "resource": path, "path": path,
             "httpMethod": method, "headers": headers, "queryStringParameters": None,
             "pathParameters": None, "stageVariables": None, "requestContext": {}}
    return handler(event, FakeLambdaContext())


def test_a_valid_key_is_allowed_with_its_tenant_and_scopes_in_the_context(tables):
    clear, stored = create_key("t1", ["ingest", "read"], usage_key="usage-123")

    result = authorize(f"Bearer {clear}")

    assert result["principalId"] == stored.key_id
    assert result["context"] == {"tenant_id": "t1", "key_id": stored.key_id, "scopes": "ingest read"}
    assert result["usageIdentifierKey"] == "usage-123"
    assert _allowed(result["policyDocument"], f"{ARN}/POST/ingest")
    assert _allowed(result["policyDocument"], f"{ARN}/GET/api/tables/clients/C1")


@pytest.mark.parametrize("scopes, allowed, denied", [
    (["ingest"], "POST/ingest", "GET/api/tables/clients/C1"),
    (["read"], "GET/api/tables/clients/C1", "POST/ingest"),
    (["ingest"], "POST/validate", "GET/api/tables"),
    (["read"], "GET/api/tables", "POST/validate"),
])
def test_the_policy_opens_only_the_routes_of_the_keys_scopes(tables, scopes, allowed, denied):
    clear, _ = create_key("t1", scopes)
    policy = authorize(f"Bearer {clear}")["policyDocument"]
    assert _allowed(policy, f"{ARN}/{allowed}")
    assert not _allowed(policy, f"{ARN}/{denied}")


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Basic abc", "Bearer ll_unknown", "ll_nobearer"])
def test_missing_malformed_or_unknown_keys_are_401(tables, header):
    create_key("t1")
    with pytest.raises(Exception, match="^Unauthorized$"):
        authorize(header)


def test_a_revoked_key_is_401_and_listed_as_revoked(tables):
    clear, stored = create_key("t1")
    assert revoke_key("t1", stored.key_id)

    with pytest.raises(Exception, match="^Unauthorized$"):
        authorize(f"Bearer {clear}")
    assert [k.status for k in list_keys("t1")] == ["revoked"]
    assert not revoke_key("t2", stored.key_id)  # another tenant cannot revoke it


def test_keys_are_stored_only_as_hashes(tables):
    clear, _ = create_key("t1")
    dump = str(tables.scan(TableName="ledgerline-records-test")["Items"])
    assert clear not in dump
    assert find_key(clear).tenant_id == "t1"


def test_unknown_scopes_are_refused_when_creating_a_key(tables):
    with pytest.raises(ValueError):
        create_key("t1", ["admin"])
