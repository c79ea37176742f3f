"""`python -m local`: the whole pipeline on a laptop, no AWS account.

moto in server mode holds the tables; the front on 127.0.0.1:$PORT runs the real authorizer
and handlers. API keys come from LEDGERLINE_API_KEYS="tenant:key[:scope+scope],..." (scopes
ingest, read, distribute, approve; ingest and read when omitted), else a demo tenant gets two
fresh keys, printed below: ingest+read+distribute, and read+approve (maker-checker). POST
/api/demo/seed is enabled (`make demo`).
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "core" / "python"), str(ROOT)]

from ledgerline import settings as env  # noqa: E402

LOCAL_RECORDS_TABLE = "ledgerline-records"
LOCAL_IDEMPOTENCY_TABLE = "ledgerline-idempotency"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def parse_api_keys(spec: str) -> list[tuple[str, str, list[str]]]:
    """"tenant:key[:scope+scope],..." -> [(tenant, key, scopes)]."""
    from ledgerline.domain.values import ID_PATTERN
    from ledgerline.store.apikeys import DEFAULT_SCOPES, SCOPES

    entries = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        tenant, _, rest = part.partition(":")
        key, _, scopes = rest.partition(":")
        wanted = scopes.split("+") if scopes else list(DEFAULT_SCOPES)
        if not ID_PATTERN.fullmatch(tenant) or not key or set(wanted) - set(SCOPES):
            raise SystemExit(f"LEDGERLINE_API_KEYS: cannot read {part!r} (tenant:key[:ingest+read+distribute+approve])")
        entries.append((tenant, key, wanted))
    return entries


def main() -> None:
    port = int(os.environ.get("PORT", "3000"))
    moto_port = int(os.environ.get("LEDGERLINE_MOTO_PORT", "0")) or free_port()
    os.environ.update({
        "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_REGION": "eu-west-1", "AWS_ENDPOINT_URL": f"http://127.0.0.1:{moto_port}",
        "POWERTOOLS_TRACE_DISABLED": "1", "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        env.CURSOR_SECRET: os.environ.get(env.CURSOR_SECRET) or secrets.token_urlsafe(32),
        env.DEMO_SEED: "true",  # POST /api/demo/seed answers here (make demo)
        env.WEBHOOK_KEY: os.environ.get(env.WEBHOOK_KEY) or secrets.token_urlsafe(32),
        env.WEBHOOK_ALLOW_LOOPBACK: "true",  # webhooks to http://127.0.0.1:PORT/... (docs/webhooks.md)
        env.TABLE: LOCAL_RECORDS_TABLE, env.IDEMPOTENCY_TABLE: LOCAL_IDEMPOTENCY_TABLE,
    })
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.pop("AWS_PROFILE", None)

    from moto.server import ThreadedMotoServer

    from ledgerline import aws
    from ledgerline.settings import get_settings
    from ledgerline.store.apikeys import create_key
    from ledgerline.store.schema import create_tables
    from local.gateway import Gateway, serve
    from local.moto_atomic import make_dynamodb_atomic

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log
    # Metrics are off locally; Powertools still warns on every invocation that has none.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    make_dynamodb_atomic()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
    moto.start()
    settings = get_settings()
    create_tables(aws.dynamodb(), settings.records_table, settings.idempotency_table)

    spec = os.environ.get("LEDGERLINE_API_KEYS")
    # Without LEDGERLINE_API_KEYS: a demo maker key and, for maker-checker, a demo approver key.
    keys = parse_api_keys(spec) if spec else [("demo", None, ["ingest", "read", "distribute"]),
                                              ("demo", None, ["read", "approve"])]
    created = [create_key(tenant, scopes, clear_key=key) for tenant, key, scopes in keys]

    from local.stream_pump import start_local, stop_local

    # the worker on the table stream, the bus and the DLQ; webhook deliveries from their queue
    pumps = start_local(port, moto_port)
    server = serve(Gateway(), "127.0.0.1", port)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    print(f"Ledgerline local stack on http://127.0.0.1:{port}  (moto on :{moto_port})", flush=True)
    for clear_key, api_key in created:
        shown = clear_key if not spec else "(from LEDGERLINE_API_KEYS)"
        print(f"  tenant {api_key.tenant_id}  scopes {'+'.join(api_key.scopes)}  key {shown}", flush=True)
    print("  stream worker on the table stream (`make sweep` runs the daily sweep)", flush=True)
    print("  webhook deliveries to loopback URLs allowed (docs/webhooks.md)", flush=True)
    print("Ready. Ctrl-C stops everything.", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        stop_local(pumps, port)
        moto.stop()
        print("Stopped.", flush=True)


if __name__ == "__main__":
    main()
