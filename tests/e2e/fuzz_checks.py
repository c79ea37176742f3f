"""A schemathesis check loaded into the fuzzing run (SCHEMATHESIS_HOOKS): the ingest schemas are
honest. An event generated to be valid under the document may still be refused for rules JSON
Schema cannot state (references, decimal places, cross-field rules), but never for a type or
format the schema already states."""

from __future__ import annotations

import schemathesis

# Codes of violations the schemas describe exactly.
SCHEMA_STATED = frozenset({
    "invalid-type", "invalid-id", "invalid-currency", "invalid-country", "too-long", "too-short",
    "unknown-field", "invalid-characters", "empty-member-name", "too-deep",
})


@schemathesis.check
def schema_valid_events_pass_type_and_format(ctx, response, case):
    if case.operation.path != "/ingest" or case.meta is None or case.meta.generation.mode.is_negative:
        return None
    if response.status_code != 422:
        return None
    refused = [error for error in response.json().get("errors", []) if error["code"] in SCHEMA_STATED]
    if refused:
        raise AssertionError(f"an event valid under the OpenAPI document was refused for {refused}")
    return None
