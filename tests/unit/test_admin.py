"""The API key admin CLI (python -m tools.admin) over moto: DynamoDB and API Gateway."""

from __future__ import annotations

import hashlib
import io
import json
import os
import urllib.request
from types import SimpleNamespace

import boto3
import pytest
from moto import mock_aws
from moto.server import ThreadedMotoServer

from ledgerline import aws
from ledgerline.settings import get_settings
from ledgerline.store import apikeys, schema
from tools import admin

TABLE = "ledgerline-test-records"
IDEMPOTENCY_TABLE = "ledgerline-test-idempotency"


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = admin.main(list(argv), out=out)
    return code, out.getvalue()


def reset_caches() -> None:
    get_settings.cache_clear()
    aws.reset()


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("LEDGERLINE_TABLE", "LEDGERLINE_USAGE_PLAN_ID", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB",
                 "AWS_ENDPOINT_URL_API_GATEWAY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    reset_caches()
    yield monkeypatch
    reset_caches()


@pytest.fixture
def cloud(clean_env):
    """A mocked AWS account with the records table and one usage plan."""
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        schema.create_tables(dynamodb, TABLE, IDEMPOTENCY_TABLE)
        apigateway = boto3.client("apigateway")
        plan_id = apigateway.create_usage_plan(name="ledgerline-test")["id"]
        yield SimpleNamespace(dynamodb=dynamodb, apigateway=apigateway, plan_id=plan_id, env=clean_env)


def create_key(cloud, tenant: str = "acme", *extra: str) -> dict:
    code, out = run("create", "--tenant", tenant, "--table", TABLE, "--usage-plan-id", cloud.plan_id, "--json", *extra)
    assert code == 0
    return json.loads(out)


def stored_key(cloud, clear_key: str) -> apikeys.ApiKey | None:
    cloud.env.setenv("LEDGERLINE_TABLE", TABLE)
    reset_caches()
    return apikeys.find_key(clear_key)


def gateway_keys(cloud) -> list[dict]:
    return cloud.apigateway.get_api_keys(includeValues=True)["items"]


def test_create_shows_the_clear_key_once_and_stores_only_its_hash(cloud):
    created = create_key(cloud, "acme", "--scopes", "read,ingest", "--description", "acme batch uploader")

    clear = created["api_key"]
    assert clear.startswith("ll_")
    key = stored_key(cloud, clear)
    assert key is not None and key.active
    assert (key.tenant_id, key.key_id, key.scopes) == ("acme", created["key_id"], ("ingest", "read"))
    assert key.description == "acme batch uploader"
    items = cloud.dynamodb.scan(TableName=TABLE)["Items"]
    assert len(items) == 2  # the authorizer's lookup item and the tenant's listing item
    assert clear not in json.dumps(items)
    assert {item["key_hash"]["S"] for item in items} == {hashlib.sha256(clear.encode()).hexdigest()}


def test_create_meters_the_key_through_the_usage_plan(cloud):
    created = create_key(cloud)

    key = stored_key(cloud, created["api_key"])
    [gateway_key] = gateway_keys(cloud)
    assert gateway_key["value"] == key.usage_key
    assert gateway_key["enabled"] is True
    assert gateway_key["name"] == admin.usage_key_name("acme", key.usage_key)
    plan_keys = cloud.apigateway.get_usage_plan_keys(usagePlanId=cloud.plan_id)["items"]
    assert [plan_key["id"] for plan_key in plan_keys] == [gateway_key["id"]]
    assert created["usage_plan_id"] == cloud.plan_id and created["metered"] is True
    assert "usage_key" not in created


def test_text_output_names_the_key_and_prints_the_clear_key_once(cloud):
    code, out = run("create", "--tenant", "acme", "--table", TABLE, "--usage-plan-id", cloud.plan_id)

    assert code == 0
    [clear] = [line.rsplit(" ", 1)[1] for line in out.splitlines() if line.startswith("API key")]
    assert out.count(clear) == 1
    key = stored_key(cloud, clear)
    assert f"Created {key.key_id} for tenant acme, scopes: ingest read" in out
    assert key.usage_key not in out


def test_usage_plan_comes_from_the_environment(cloud):
    cloud.env.setenv("LEDGERLINE_USAGE_PLAN_ID", cloud.plan_id)

    code, out = run("create", "--tenant", "acme", "--table", TABLE, "--json")

    assert code == 0 and json.loads(out)["usage_plan_id"] == cloud.plan_id


def test_create_against_aws_needs_a_usage_plan(cloud, capsys):
    code, _ = run("create", "--tenant", "acme", "--table", TABLE)

    assert code == 1
    assert "--usage-plan-id" in capsys.readouterr().err
    assert gateway_keys(cloud) == []
    assert cloud.dynamodb.scan(TableName=TABLE)["Items"] == []


def test_unknown_scope_is_refused_before_anything_is_created(cloud):
    with pytest.raises(SystemExit) as exit_info:
        run("create", "--tenant", "acme", "--table", TABLE, "--usage-plan-id", cloud.plan_id, "--scopes", "ingest,admin")

    assert exit_info.value.code == 2
    assert gateway_keys(cloud) == []


@pytest.mark.parametrize("tenant", ["a#b", "", "-acme", "x" * 129])
def test_tenant_ids_that_could_break_storage_keys_are_refused(cloud, tenant):
    with pytest.raises(SystemExit):
        run("list", "--tenant", tenant, "--table", TABLE)


def test_a_failed_table_write_removes_the_api_gateway_key(cloud, capsys):
    code, _ = run("create", "--tenant", "acme", "--table", "no-such-table", "--usage-plan-id", cloud.plan_id)

    assert code == 1
    assert capsys.readouterr().err.startswith("error: ")
    assert gateway_keys(cloud) == []


def test_list_shows_every_key_of_the_tenant_and_no_secret(cloud):
    first = create_key(cloud, "acme", "--scopes", "ingest")
    second = create_key(cloud, "acme", "--scopes", "read")
    create_key(cloud, "other")

    code, out = run("list", "--tenant", "acme", "--table", TABLE, "--json")

    assert code == 0
    listed = json.loads(out)
    assert sorted(key["key_id"] for key in listed) == sorted([first["key_id"], second["key_id"]])
    assert {tuple(key["scopes"]) for key in listed} == {("ingest",), ("read",)}
    for key in listed:
        assert set(key) == {"tenant_id", "key_id", "scopes", "status", "created_at", "description", "metered"}
    for value in [first["api_key"], second["api_key"], *(k["value"] for k in gateway_keys(cloud))]:
        assert value not in out

    code, text = run("list", "--tenant", "acme", "--table", TABLE)
    assert code == 0 and first["key_id"] in text and second["key_id"] in text and "active" in text


def test_list_of_a_tenant_without_keys(cloud):
    assert run("list", "--tenant", "nobody", "--table", TABLE) == (0, "Tenant nobody has no keys\n")


def test_revoke_ends_access_and_disables_the_metering_key(cloud):
    created = create_key(cloud)

    code, out = run("revoke", "--tenant", "acme", "--key-id", created["key_id"], "--table", TABLE, "--json")

    assert code == 0
    result = json.loads(out)
    assert stored_key(cloud, created["api_key"]).status == "revoked"
    [gateway_key] = gateway_keys(cloud)
    assert gateway_key["enabled"] is False
    assert result["disabled_usage_plan_keys"] == [gateway_key["id"]]


def test_revoke_leaves_the_tenants_other_keys_alone(cloud):
    revoked, kept = create_key(cloud), create_key(cloud)

    assert run("revoke", "--tenant", "acme", "--key-id", revoked["key_id"], "--table", TABLE)[0] == 0

    assert stored_key(cloud, kept["api_key"]).active
    enabled = {key["value"]: key["enabled"] for key in gateway_keys(cloud)}
    assert enabled[stored_key(cloud, kept["api_key"]).usage_key] is True


def test_revoke_of_an_unknown_key_fails(cloud, capsys):
    code, _ = run("revoke", "--tenant", "acme", "--key-id", "key_000000000000", "--table", TABLE)

    assert code == 1
    assert "has no key key_000000000000" in capsys.readouterr().err


def test_a_tenant_cannot_revoke_another_tenants_key(cloud):
    created = create_key(cloud, "acme")

    code, _ = run("revoke", "--tenant", "intruder", "--key-id", created["key_id"], "--table", TABLE)

    assert code == 1
    assert stored_key(cloud, created["api_key"]).active
    assert gateway_keys(cloud)[0]["enabled"] is True


def test_the_table_is_required(clean_env, capsys):
    assert run("list", "--tenant", "acme") == (2, "")
    assert "--table" in capsys.readouterr().err


@pytest.fixture
def local_stack(clean_env):
    """The local stack's shape: a moto server on loopback, tables created from the schema."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        dynamodb = boto3.client("dynamodb", endpoint_url=endpoint)
        schema.create_tables(dynamodb, TABLE, IDEMPOTENCY_TABLE)
        yield SimpleNamespace(endpoint=endpoint, dynamodb=dynamodb,
                              apigateway=boto3.client("apigateway", endpoint_url=endpoint))
    finally:
        # The server keeps moto's in-process state: reset it for the next test.
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"))
        server.stop()


def test_local_endpoint_skips_api_gateway_and_restores_the_environment(local_stack):
    code, out = run("create", "--tenant", "acme", "--table", TABLE, "--endpoint-url", local_stack.endpoint, "--json")

    assert code == 0
    created = json.loads(out)
    assert created["metered"] is False and created["usage_plan_id"] is None
    assert local_stack.apigateway.get_api_keys()["items"] == []
    lookup = local_stack.dynamodb.get_item(
        TableName=TABLE,
        Key={"PK": {"S": f"K#{hashlib.sha256(created['api_key'].encode()).hexdigest()}"}, "SK": {"S": "key"}},
    )["Item"]
    assert lookup["tenant_id"] == {"S": "acme"} and "usage_key" not in lookup
    # The CLI pointed ledgerline at the endpoint only while it ran.
    assert "LEDGERLINE_TABLE" not in os.environ and "AWS_ENDPOINT_URL_DYNAMODB" not in os.environ

    code, _ = run("revoke", "--tenant", "acme", "--key-id", created["key_id"], "--table", TABLE,
                  "--endpoint-url", local_stack.endpoint)
    assert code == 0
    code, out = run("list", "--tenant", "acme", "--table", TABLE, "--endpoint-url", local_stack.endpoint, "--json")
    assert [key["status"] for key in json.loads(out)] == ["revoked"]


def test_local_endpoint_with_a_usage_plan_uses_its_api_gateway(local_stack):
    plan_id = local_stack.apigateway.create_usage_plan(name="local")["id"]

    code, out = run("create", "--tenant", "acme", "--table", TABLE, "--endpoint-url", local_stack.endpoint,
                    "--usage-plan-id", plan_id, "--json")

    assert code == 0 and json.loads(out)["metered"] is True
    [gateway_key] = local_stack.apigateway.get_api_keys()["items"]
    assert gateway_key["name"].startswith("ledgerline-acme-")
