"""Operator CLI for partner API keys: create, list and revoke a tenant's keys.

    python -m tools.admin create --tenant acme --scopes ingest,read \\
        --usage-plan-id <UsagePlanId> --table <RecordsTableName>
    python -m tools.admin list   --tenant acme --table <RecordsTableName>
    python -m tools.admin revoke --tenant acme --key-id key_0123456789ab --table <RecordsTableName>

The table defaults to $LEDGERLINE_TABLE and the usage plan to $LEDGERLINE_USAGE_PLAN_ID (both
are outputs of the deployed stack). The clear key is printed once: only its SHA-256 is stored.

Against AWS, `create` also makes an API Gateway API key with a random value, adds it to the
usage plan, and stores that value with the partner key; the authorizer returns it as
`usageIdentifierKey`, so API Gateway meters every partner key against the plan's rate limit and
daily quota. `revoke` disables that API Gateway key as well, which ends access at once, even
while the authorizer's cache still remembers the partner key.

With --endpoint-url (the local stack's moto server) the API Gateway part is skipped unless a
usage plan id is given.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import secrets
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any, TextIO

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from ledgerline import aws
from ledgerline import settings as env
from ledgerline.settings import get_settings
from ledgerline.store import apikeys

# Same shape as the contract's record ids: it becomes part of storage keys, so no '#'.
TENANT_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
# With --endpoint-url and no region configured: the local stack's region (local/__main__.py).
LOCAL_REGION = "eu-west-1"


class AdminError(Exception):
    """An operator mistake or a missing resource: reported on stderr, exit status 1."""


def tenant_id(value: str) -> str:
    if not TENANT_PATTERN.match(value):
        raise argparse.ArgumentTypeError(
            "tenant ids are 1-128 characters of A-Z a-z 0-9 . _ : -, starting with a letter or digit"
        )
    return value


def scope_list(value: str) -> tuple[str, ...]:
    scopes = tuple(sorted({part.strip() for part in value.split(",") if part.strip()}))
    unknown = [scope for scope in scopes if scope not in apikeys.SCOPES]
    if not scopes or unknown:
        raise argparse.ArgumentTypeError(f"scopes must be a comma-separated subset of {','.join(apikeys.SCOPES)}")
    return scopes


def usage_key_name(tenant: str, usage_key: str) -> str:
    """The API Gateway key's name, derived from its value so `revoke` can find it again."""
    return f"ledgerline-{tenant}-{hashlib.sha256(usage_key.encode()).hexdigest()[:16]}"


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--tenant", required=True, type=tenant_id, help="the tenant the keys belong to")
    common.add_argument("--table", default=None, help="records table name (default: $LEDGERLINE_TABLE)")
    common.add_argument("--endpoint-url", default=None, help="AWS endpoint override, e.g. the local moto server")
    common.add_argument("--region", default=None, help="AWS region (default: the AWS configuration)")
    common.add_argument(
        "--usage-plan-id",
        default=os.environ.get("LEDGERLINE_USAGE_PLAN_ID"),
        help="API Gateway usage plan (default: $LEDGERLINE_USAGE_PLAN_ID); required against AWS for create",
    )
    common.add_argument("--json", action="store_true", help="print JSON instead of text")

    parser = argparse.ArgumentParser(prog="python -m tools.admin", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", parents=[common], help="create a key (the clear key is shown once)")
    create.add_argument("--scopes", type=scope_list, default=apikeys.DEFAULT_SCOPES,
                        help="comma-separated subset of ingest,read,distribute,approve (default ingest,read)")
    create.add_argument("--description", default=None, help="free text stored with the key, e.g. who holds it")
    commands.add_parser("list", parents=[common], help="list a tenant's keys (never their values)")
    revoke = commands.add_parser("revoke", parents=[common], help="revoke a key, effective immediately")
    revoke.add_argument("--key-id", required=True, help="the key id printed by create / list")
    return parser


@contextmanager
def aws_target(table: str, endpoint_url: str | None, region: str | None) -> Iterator[None]:
    """Point ledgerline's settings and cached clients at this table and endpoint, then restore."""
    overrides = {env.TABLE: table}
    if region:
        overrides["AWS_DEFAULT_REGION"] = region
    if endpoint_url:
        overrides["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint_url
        if not (region or os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION")):
            overrides["AWS_DEFAULT_REGION"] = LOCAL_REGION
        if boto3.Session().get_credentials() is None:
            # A local moto server accepts any credentials; a machine without any still needs some.
            overrides.update(AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local")
    saved = {name: os.environ.get(name) for name in overrides}
    os.environ.update(overrides)
    get_settings.cache_clear()
    aws.reset()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()
        aws.reset()


def _apigateway(endpoint_url: str | None) -> Any:
    return aws.client("apigateway", endpoint_url)


def create(args: argparse.Namespace, out: TextIO) -> None:
    use_apigateway = args.endpoint_url is None or args.usage_plan_id is not None
    if use_apigateway and not args.usage_plan_id:
        raise AdminError(
            "--usage-plan-id (or $LEDGERLINE_USAGE_PLAN_ID) is required: the stack output UsagePlanId"
        )

    usage_key: str | None = None
    gateway_key_id: str | None = None
    client = _apigateway(args.endpoint_url) if use_apigateway else None
    if client is not None:
        # API Gateway first: if it refuses (unknown plan, quota of keys), nothing is stored.
        usage_key = secrets.token_urlsafe(32)
        gateway_key_id = client.create_api_key(
            name=usage_key_name(args.tenant, usage_key),
            description=f"Ledgerline usage-plan key of tenant {args.tenant}",
            enabled=True,
            value=usage_key,
            customerId=args.tenant,
            tags={"ledgerline:tenant": args.tenant},
        )["id"]
    try:
        if client is not None:
            client.create_usage_plan_key(usagePlanId=args.usage_plan_id, keyId=gateway_key_id, keyType="API_KEY")
        clear_key, stored = apikeys.create_key(
            args.tenant, args.scopes, usage_key=usage_key, description=args.description
        )
    except Exception:
        if client is not None:
            client.delete_api_key(apiKey=gateway_key_id)
        raise

    if args.json:
        record = {**_public(stored), "usage_plan_id": args.usage_plan_id if client else None, "api_key": clear_key}
        out.write(json.dumps(record) + "\n")
        return
    out.write(f"Created {stored.key_id} for tenant {stored.tenant_id}, scopes: {' '.join(stored.scopes)}\n")
    if client is not None:
        out.write(f"Metered by usage plan {args.usage_plan_id} (API Gateway key {gateway_key_id})\n")
    else:
        out.write("No usage plan (local endpoint): requests are not rate limited\n")
    out.write(f"API key, shown only this once: {clear_key}\n")


def list_keys(args: argparse.Namespace, out: TextIO) -> None:
    keys = sorted(apikeys.list_keys(args.tenant), key=lambda key: (key.created_at, key.key_id))
    if args.json:
        out.write(json.dumps([_public(key) for key in keys]) + "\n")
        return
    if not keys:
        out.write(f"Tenant {args.tenant} has no keys\n")
        return
    for key in keys:
        metered = "metered" if key.usage_key else "unmetered"
        line = f"{key.key_id}  {key.status:<8} {','.join(key.scopes):<12} {key.created_at}  {metered}"
        out.write(line + (f"  {key.description}" if key.description else "") + "\n")


def revoke(args: argparse.Namespace, out: TextIO) -> None:
    key = next((key for key in apikeys.list_keys(args.tenant) if key.key_id == args.key_id), None)
    if key is None or not apikeys.revoke_key(args.tenant, args.key_id):
        raise AdminError(f"tenant {args.tenant} has no key {args.key_id}")

    disabled: list[str] = []
    use_apigateway = args.endpoint_url is None or args.usage_plan_id is not None
    if use_apigateway and key.usage_key:
        client = _apigateway(args.endpoint_url)
        name = usage_key_name(args.tenant, key.usage_key)
        for page in client.get_paginator("get_api_keys").paginate(nameQuery=name, includeValues=False):
            for item in page.get("items", []):
                if item.get("name") == name:
                    client.update_api_key(
                        apiKey=item["id"], patchOperations=[{"op": "replace", "path": "/enabled", "value": "false"}]
                    )
                    disabled.append(item["id"])

    if args.json:
        out.write(json.dumps({"tenant_id": args.tenant, "key_id": args.key_id, "status": "revoked",
                              "disabled_usage_plan_keys": disabled}) + "\n")
        return
    out.write(f"Revoked {args.key_id} of tenant {args.tenant}\n")
    if disabled:
        out.write(f"Disabled API Gateway key {', '.join(disabled)}: refused from the next request on\n")
    elif key.usage_key and use_apigateway:
        out.write("No API Gateway key found for it: access ends when the authorizer cache expires\n")


def _public(key: apikeys.ApiKey) -> dict[str, Any]:
    """What may be printed about a stored key: never the usage-plan key value."""
    record = asdict(key)
    record.pop("usage_key")
    record["scopes"] = list(key.scopes)
    record["metered"] = key.usage_key is not None
    return record


COMMANDS = {"create": create, "list": list_keys, "revoke": revoke}


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = build_parser().parse_args(argv)
    table = args.table or os.environ.get(env.TABLE)
    if not table:
        print("error: --table (or $LEDGERLINE_TABLE) is required: the stack output RecordsTableName", file=sys.stderr)
        return 2
    try:
        with aws_target(table, args.endpoint_url, args.region):
            COMMANDS[args.command](args, out)
    except (AdminError, ClientError, BotoCoreError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
