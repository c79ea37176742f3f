"""Response shapes, for the OpenAPI document (handlers build plain dicts of the same shape)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from ledgerline.api.problems import PROBLEM_JSON
from ledgerline.domain.envelope import CATEGORIES


class ProblemViolation(BaseModel):
    field: str = Field(examples=["data.maturity_date"])
    code: str = Field(examples=["date-order"])
    message: str = Field(examples=["must be after disbursement_date"])


class Problem(BaseModel):
    """An RFC 9457 problem; `errors` lists every violation of a refused request."""

    type: str = Field(examples=["https://ledgerline.dev/problems/validation-error"])
    title: str
    status: int
    detail: str
    instance: str = Field(description="the request id, also in the X-Request-Id header")
    errors: list[ProblemViolation] | None = None


class Warning(BaseModel):
    field: str
    code: Literal["timezone-assumed", "deprecated-field"]
    message: str


class IngestAnswer(BaseModel):
    status: Literal["Success", "Duplicate", "Unchanged"]
    event_id: str
    category: Literal[tuple(CATEGORIES)]  # type: ignore[valid-type]
    id: str
    step: Literal["create", "update", "delete"]
    version: int
    warnings: list[Warning]


class TableList(BaseModel):
    tables: list[str]


class RecordPage(BaseModel):
    table: str
    items: list[dict[str, Any]]
    next_cursor: str | None


class RecordItem(BaseModel):
    table: str
    item: dict[str, Any]


class HistoryEntry(BaseModel):
    version: int
    previous_version: int | None
    valid_from: str
    valid_to: str
    system_from: str
    system_to: str
    changed_by: str | None
    event_id: str | None
    deleted: bool
    changes: list[str]
    record: dict[str, Any]


class History(BaseModel):
    table: str
    id: str
    total_versions: int
    history: list[HistoryEntry]


class AsOf(BaseModel):
    table: str
    id: str
    as_of: str
    known_at: str
    version: int
    valid_from: str
    valid_to: str
    record: dict[str, Any]


class FieldChange(BaseModel):
    old: Any
    new: Any


class Change(BaseModel):
    version: int
    changed_at: str
    changed_by: str | None
    event_id: str | None
    changes: dict[str, FieldChange]


class Changes(BaseModel):
    table: str
    id: str
    changes: list[Change]


def answers(ok: type[BaseModel], *problems: int) -> dict[int, dict[str, Any]]:
    """`responses=` for a route: its 200 body and the problems it can answer with."""
    described = {
        400: "malformed request or invalid parameter", 401: "missing or invalid API key",
        403: "the key lacks the scope", 404: "no such table or record in your tenant",
        409: "conflict with the stored state, or the same key still in progress",
        413: "body over 256 KiB", 415: "body is not application/json",
        422: "the event breaks rules (every violation listed)", 429: "rate limited", 500: "unexpected error",
    }
    result: dict[int, dict[str, Any]] = {200: {"description": "OK", "content": {"application/json": {"model": ok}}}}
    for status in (*problems, 401, 403, 429, 500):
        result[status] = {"description": described[status], "content": {PROBLEM_JSON: {"model": Problem}}}
    return result
