"""The published event schemas: one per event kind, draft-07, versioned, with valid examples."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft7Validator

from ledgerline.events.outgoing import EVENT_NAMES, SCHEMA_VERSION
from tools.event_schemas import SCHEMA_DIR, load_schema, schema_path, validator


def test_there_is_exactly_one_schema_file_per_event_kind_and_version():
    assert sorted(p.name for p in SCHEMA_DIR.glob("*.json")) == sorted(f"{n}-{SCHEMA_VERSION}.json" for n in EVENT_NAMES)


@pytest.mark.parametrize("name", EVENT_NAMES)
def test_schema_is_draft_07_and_names_itself(name):
    schema = load_schema(name, SCHEMA_VERSION)

    Draft7Validator.check_schema(schema)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert schema["$id"].endswith(f"/{name}-{SCHEMA_VERSION}.json")
    assert set(schema["required"]) >= {"operation", "status", "message", "ingest", "entity"}
    assert schema["properties"]["operation"]["enum"] == ["CREATION", "UPDATE", "DELETION"]
    assert schema["properties"]["status"]["enum"] == ["SUCCESS", "FAIL"]


@pytest.mark.parametrize("name", EVENT_NAMES)
def test_every_example_in_a_schema_is_valid(name):
    schema = load_schema(name, SCHEMA_VERSION)
    check = validator(name, SCHEMA_VERSION)

    assert schema["examples"], "a published schema shows at least one whole event"
    for example in schema["examples"]:
        check.validate(example)
    for example in schema["properties"]["entity"].get("examples", []):
        Draft7Validator(schema["properties"]["entity"]).validate(example)


@pytest.mark.parametrize("name", EVENT_NAMES)
def test_every_property_is_documented(name):
    def walk(node, path):
        if isinstance(node, dict):
            if "type" in node and path and path[-2:-1] == ["properties"]:
                assert node.get("description") or node.get("title"), "/".join(path)
            for key, child in node.items():
                if key != "examples":
                    walk(child, [*path, key])
        elif isinstance(node, list):
            for index, child in enumerate(node):
                walk(child, [*path, str(index)])

    walk(json.loads(schema_path(name, SCHEMA_VERSION).read_text()), [])
