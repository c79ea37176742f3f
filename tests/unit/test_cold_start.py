"""Cold start: no handler imports the X-Ray SDK or the OpenAPI machinery at import time.

Each handler is imported in a fresh interpreter with Lambda's environment and tracing on, the
way Lambda's init phase imports it (bench/cold_start.py measures the time; this checks what).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bench.cold_start import HANDLERS, ROOT, lambda_environment
from ledgerline.observability import LazyTracer

HEAVY = ("aws_xray_sdk", "aws_lambda_powertools.event_handler.openapi.models",
         "aws_lambda_powertools.event_handler.openapi.swagger_ui", "ledgerline.api.openapi")
PROBE = f"import sys, json, handler; print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))"


@pytest.mark.parametrize("name", HANDLERS)
def test_handler_import_loads_no_tracing_sdk_and_no_openapi(name):
    env = {**lambda_environment(),
           "PYTHONPATH": os.pathsep.join([str(ROOT / "functions" / name), str(ROOT / "layers" / "core" / "python")])}
    result = subprocess.run([sys.executable, "-c", PROBE], env=env, cwd=ROOT / "bench", capture_output=True,
                            text=True, check=True)

    assert json.loads(result.stdout.splitlines()[-1]) == []


def test_tracer_is_built_on_the_first_sampled_invocation_only(monkeypatch):
    lazy = LazyTracer(service="test")
    calls = []

    @lazy.capture_method
    def work(value: int) -> int:
        calls.append(value)
        return value * 2

    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0")
    assert work(1) == 2
    assert not lazy.built

    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "1")  # no X-Ray daemon here
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1")
    assert work(2) == 4
    assert lazy.built
    assert calls == [1, 2]
    assert work.__name__ == "work"


def test_openapi_document_is_served_on_first_use():
    from functions.tables import handler as tables

    response = tables.app.resolve({"httpMethod": "GET", "path": "/openapi.json", "resource": "/openapi.json",
                                   "headers": {}, "requestContext": {"requestId": "r"}}, None)

    assert response["statusCode"] == 200
    assert json.loads(response["body"])["info"]["title"] == "Ledgerline API"
