"""JSON Schemas (draft 2020-12) of the four ingest payloads, generated from the pydantic models
that validate them, plus the step rules JSON Schema can express (ids, required fields per step
and kind, what a delete may carry).

Published one per category at GET /schemas/ingest/{category}.json and used, as shared
components, for the body of POST /ingest in the OpenAPI document. Rules that span fields or
stored records stay in the domain and are described in each payload's `description`.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

from ledgerline.domain.category import Category
from ledgerline.domain.disbursement import LOAN_ONLY, PURCHASE_ONLY
from ledgerline.domain.envelope import CATEGORIES, DEPRECATED_FIELDS
from ledgerline.domain.operation import ASSET_FIELDS
from ledgerline.domain.payment import ALWAYS_REQUIRED
from ledgerline.domain.values import NAMED_SCHEMAS, NO_NUL

DIALECT = "https://json-schema.org/draft/2020-12/schema"
DEFS = "#/$defs/"
NOT_NULL = {"not": {"type": "null"}}
DEPRECATED = {"$ref": DEFS + "DeprecatedValue", "deprecated": True,
              "description": "deprecated: accepted, ignored and reported in warnings"}
# Any JSON value, as long as no string or member name in it holds U+0000.
DEPRECATED_VALUE = {"type": ["string", "number", "boolean", "null", "array", "object"], "pattern": NO_NUL,
                    "propertyNames": {"pattern": NO_NUL}, "items": {"$ref": DEFS + "DeprecatedValue"},
                    "additionalProperties": {"$ref": DEFS + "DeprecatedValue"}}


def payload_name(category: str) -> str:
    return f"{category.capitalize()}Payload"


def _step_is(step: str) -> dict[str, Any]:
    return {"properties": {"step": {"const": step}}, "required": ["step"]}


def _present(*names: str) -> dict[str, Any]:
    """Each of `names` is sent and not null."""
    return {"required": list(names), "properties": {name: NOT_NULL for name in names}}


def _step_rules(category: Category) -> list[dict[str, Any]]:
    only_id = sorted({category.id_field, "step", *DEPRECATED_FIELDS})
    rules = [
        {"if": _step_is("delete"), "then": {"propertyNames": {"enum": only_id}}},
        {"if": _step_is("create"), "then": _present(*category.required_on_create({}))},
    ]
    if category.name == "payment":
        rules.append({"if": {"not": _step_is("delete")}, "then": _present(*ALWAYS_REQUIRED)})
    elif category.name == "operation":
        rules += [{"if": {"allOf": [_step_is("create"), _present(name)]}, "then": _present("asset_id")}
                  for name in ASSET_FIELDS]
    elif category.name == "disbursement":
        loan, purchase = ({"properties": {"kind": {"const": k}}, "required": ["kind"]} for k in ("loan", "purchase"))
        rules += [
            {"if": _step_is("create"), "then": {"properties": {"disbursement_amount": {"exclusiveMinimum": 0}}}},
            {"if": {"allOf": [_step_is("create"), loan]}, "then": {"allOf": [
                _present(*category.required_on_create({"kind": "loan"})),
                {"anyOf": [_present("client_id"), {"required": ["client_ids"],
                                                   "properties": {"client_ids": {"minItems": 1}}}]},
            ]}},
            {"if": {"allOf": [_step_is("create"), purchase]},
             "then": _present(*category.required_on_create({"kind": "purchase"}))},
            {"if": loan, "then": {"properties": {name: {"type": "null"} for name in PURCHASE_ONLY}}},
            {"if": purchase, "then": {"properties": {name: {"type": "null"} for name in LOAN_ONLY}}},
        ]
    return rules


def _payload(category: Category) -> tuple[dict[str, Any], dict[str, Any]]:
    """(payload schema, the model definitions it refers to), refs in `#/$defs/` form."""
    schema = category.model.model_json_schema(mode="validation")
    model_defs = schema.pop("$defs", {})
    properties = schema["properties"]
    always = [category.id_field, *(["step"] if category.step_required else [])]
    for name in always:  # sent on every event, never null
        properties[name] = next(v for v in properties[name]["anyOf"] if v != {"type": "null"})
        properties[name].pop("default", None)
    for name in DEPRECATED_FIELDS:
        properties[name] = DEPRECATED
    if category.name == "disbursement":
        client_ids = next(v for v in properties["client_ids"]["anyOf"] if v.get("type") == "array")
        client_ids["uniqueItems"] = True
    schema["required"] = always
    schema["allOf"] = _step_rules(category)
    schema["title"] = payload_name(category.name)
    return schema, model_defs


def _lift(node: Any, *, root: bool = True) -> Any:
    """Replace every named type schema by a `$ref` to its definition."""
    if isinstance(node, dict):
        if not root:
            untitled = {key: value for key, value in node.items() if key != "title"}  # pydantic's field title
            for name, schema in NAMED_SCHEMAS.items():
                if untitled == schema:
                    return {"$ref": DEFS + name}
        return {key: _lift(value, root=False) for key, value in node.items()}
    if isinstance(node, list):
        return [_lift(item, root=False) for item in node]
    return node


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"].removeprefix(DEFS)} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(item) for item in node))
    return set()


def _closure(node: Any, definitions: dict[str, Any]) -> set[str]:
    """Names of every definition reachable from `node`."""
    found: set[str] = set()
    pending = _refs(node)
    while pending:
        name = pending.pop()
        if name not in found:
            found.add(name)
            pending |= _refs(definitions[name])
    return found


@lru_cache(maxsize=1)
def _components() -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """(every definition the payloads use, payload schema per category)."""
    available = {name: _lift(schema) for name, schema in NAMED_SCHEMAS.items()}
    available["DeprecatedValue"] = DEPRECATED_VALUE
    payloads = {}
    for name, category in CATEGORIES.items():
        schema, model_defs = _payload(category)
        payloads[name] = _lift(schema)
        available.update({model: _lift(definition) for model, definition in model_defs.items()})
    used = _closure(list(payloads.values()), available)
    return {name: available[name] for name in sorted(used)}, payloads


def category_schema(category: str) -> dict[str, Any]:
    """The standalone JSON Schema (2020-12) of one category's payload (`data` of POST /ingest)."""
    definitions, payloads = _components()
    payload = payloads[category]
    used = _closure(payload, definitions)
    return copy.deepcopy({"$schema": DIALECT, **payload,
                          "$defs": {name: schema for name, schema in definitions.items() if name in used}})


def event_schemas() -> dict[str, dict[str, Any]]:
    """Schemas of the POST /ingest body, by name, refs in `#/$defs/` form: one event per category, payloads and
    the shared definitions."""
    definitions, payloads = _components()
    named: dict[str, dict[str, Any]] = copy.deepcopy(definitions)
    for name in CATEGORIES:
        named[payload_name(name)] = copy.deepcopy(payloads[name])
        named[event_name(name)] = {
            "type": "object",
            "title": event_name(name),
            "required": ["category", "data"],
            "additionalProperties": False,
            "properties": {
                "category": {"type": "string", "const": name},
                "data": {"$ref": DEFS + payload_name(name)},
                "effective_at": {"anyOf": [{"$ref": DEFS + "Date"}, {"type": "null"}],
                                 "description": "valid time of the change; default data.change_date, else now"},
                **{field: DEPRECATED for field in DEPRECATED_FIELDS},
            },
        }
    return named


def event_name(category: str) -> str:
    return f"{category.capitalize()}Event"


def rebase(node: Any, prefix: str) -> Any:
    """The same schema with `#/$defs/` refs pointing under `prefix` (e.g. `#/components/schemas/`)."""
    if isinstance(node, dict):
        return {key: (value.replace(DEFS, prefix, 1) if key == "$ref" and isinstance(value, str)
                      else rebase(value, prefix)) for key, value in node.items()}
    if isinstance(node, list):
        return [rebase(item, prefix) for item in node]
    return node
