"""Schemathesis against the local stack, from the typed OpenAPI document the stack serves.

Every operation is fuzzed with valid and invalid inputs (examples, coverage and fuzzing phases),
then the stateful phase follows the document's links: a stored event leads to its record, history,
changes and as-of reads, and to further events that reference it, so generated valid events reach
storage and the read routes. Checks: no server errors; status codes, content types and bodies as
documented; and no event valid under the document refused for a type or format (fuzz_checks).
Bounded and deterministic so a run repeats exactly.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.e2e.conftest import KEYS, ROOT, Http

CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,"
          "schema_valid_events_pass_type_and_format")  # the last one from tests/e2e/fuzz_checks.py
MAX_EXAMPLES = 20  # per operation and phase; the whole run stays within about two minutes on 2 cores


@pytest.fixture(scope="module")
def fuzz_run(stack: str, tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", f"{stack}/openapi.json",
        "--header", f"Authorization: Bearer {KEYS['fuzz']}",
        "--checks", CHECKS,
        "--max-examples", str(MAX_EXAMPLES),
        "--generation-deterministic",
        "--workers", "1",
        "--request-timeout", "30",
        "--no-color",
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.e2e.fuzz_checks",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    # A fresh directory: schemathesis keeps a cache of past failures there, which would make runs differ.
    return subprocess.run(command, capture_output=True, text=True, timeout=600, check=False, env=env,
                          cwd=tmp_path_factory.mktemp("schemathesis"))


def test_the_api_answers_every_generated_request_as_documented(fuzz_run):
    summary = fuzz_run.stdout[-6000:] + fuzz_run.stderr[-2000:]
    assert fuzz_run.returncode == 0, summary
    assert "Stateful" in fuzz_run.stdout and "passed" in fuzz_run.stdout, summary


def test_generated_events_reached_storage_and_the_read_routes(fuzz_run, http: Http):
    status, _, page = http("GET", "/api/tables/ingested_events?limit=500", key=KEYS["fuzz"])
    assert status == 200
    stored = {item["category"] for item in page["items"]}
    assert len(page["items"]) >= 10 and {"client", "disbursement", "payment", "operation"} <= stored, stored
