"""The published JSON Schemas of outgoing events (`schemas/events/<name>-<version>.json`).

For tests and tools: it reads the schema files of the repository and needs `jsonschema`
(requirements-dev.txt). The Lambdas never import it; what they emit is checked here, in tests.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from ledgerline.domain.jsonio import dumps, loads

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "schemas" / "events"


def schema_path(name: str, version: int) -> Path:
    return SCHEMA_DIR / f"{name}-{version}.json"


@cache
def load_schema(name: str, version: int) -> dict[str, Any]:
    return json.loads(schema_path(name, version).read_text(encoding="utf-8"))


def validator(name: str, version: int) -> Any:
    from jsonschema import Draft7Validator

    schema = load_schema(name, version)
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)


def validate_detail(name: str, version: int, detail: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError unless `detail`, as subscribers receive it (JSON), is valid."""
    validator(name, version).validate(loads(dumps(detail)))
