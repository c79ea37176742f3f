"""POST /validate through the real handler over moto: the answer /ingest would give, nothing stored."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.builders import FakeLambdaContext, api_event, client, loan, operation, payment, purchase
from tests.conftest import headers_of, moto_tables

TABLE = "ledgerline-records-test"


def _call(path: str, body: Any, *, tenant: str = "t1", scopes: str = "ingest read",
          headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    from functions.ingest.handler import handler
    from ledgerline.domain.jsonio import loads

    event = api_event("POST", path, body=body, headers=headers, tenant=tenant, scopes=scopes)
    response = handler(event, FakeLambdaContext())
    return response["statusCode"], headers_of(response), loads(response["body"])


def validate(body: Any, **kwargs: Any) -> tuple[int, dict[str, str], Any]:
    return _call("/validate", body, **kwargs)


def ingest(body: Any, *, key: str | None = None, **kwargs: Any) -> tuple[int, dict[str, str], Any]:
    headers = {"Idempotency-Key": key or str(uuid.uuid4()), **kwargs.pop("headers", {})}
    return _call("/ingest", body, headers=headers, **kwargs)


def stored(dynamodb: Any) -> list[dict[str, Any]]:
    return sorted(dynamodb.scan(TableName=TABLE)["Items"], key=lambda i: (i["PK"]["S"], i["SK"]["S"]))


def without_instance(problem: dict[str, Any]) -> dict[str, Any]:
    """A problem minus what differs per request (the request id)."""
    return {k: v for k, v in problem.items() if k != "instance"}


# answers ----------------------------------------------------------------------------------


def test_a_valid_create_answers_the_outcome_and_stores_nothing(tables):
    status, _, body = validate(client())

    assert status == 200
    assert body == {"valid": True, "category": "client", "id": "C1", "step": "create", "outcome": "create",
                    "warnings": []}
    assert stored(tables) == []


def test_outcomes_follow_the_stored_state(tables):
    assert ingest(client(country="DE"))[0] == 200

    assert validate(client(step="update", country="DE"))[2]["outcome"] == "unchanged"
    assert validate(client(step="update", country="FR"))[2]["outcome"] == "update"
    assert validate(client(step="delete"))[2]["outcome"] == "delete"
    # create-or-update payloads: the step is the one the stored state implies
    assert ingest(loan())[0] == 200
    _, _, body = validate(payment(installment_number=None))
    assert (body["step"], body["outcome"]) == ("create", "create")


def test_checks_against_stored_data_answer_the_problems_ingest_answers(tables):
    assert ingest(client())[0] == 200
    assert ingest(loan())[0] == 200
    assert ingest(payment(status="canceled"))[0] == 200

    for body, status, problem in [
        (client(), 409, "conflict"),  # create of an existing id
        (loan("D2", client_id="NOPE"), 422, "unknown-reference"),  # unknown client
        (payment("PM9", disbursement_id="D9"), 422, "unknown-reference"),  # unknown disbursement
        (payment(status="paid"), 409, "conflict"),  # canceled is final
        (client(step="delete"), 409, "conflict"),  # client still has an open disbursement
    ]:
        before = stored(tables)
        answer = validate(body)
        assert (answer[0], answer[2]["type"].rsplit("/", 1)[1]) == (status, problem), body
        assert without_instance(answer[2]) == without_instance(ingest(body)[2])
        assert stored(tables) == before


def test_it_refuses_bad_input_with_every_violation_listed(tables):
    status, headers, problem = validate(loan(currency="EURO", maturity_date="2024-01-01"))
    assert status == 422 and headers["Content-Type"] == "application/problem+json"
    assert {e["field"] for e in problem["errors"]} == {"data.currency", "data.maturity_date"}

    status, _, problem = validate({"category": "loan", "data": {}})
    assert status == 422 and problem["type"].endswith("/problems/deprecated-category")

    status, _, problem = validate("not json", headers={"Content-Type": "application/json"})
    assert status == 400 and problem["type"].endswith("/problems/malformed-request")


def test_an_idempotency_key_is_ignored_and_not_burned(tables):
    status, _, body = validate(client(), headers={"Idempotency-Key": "k-1"})
    assert status == 200 and body["outcome"] == "create"
    status, _, body = validate(client(), headers={"Idempotency-Key": "k-1"})
    assert status == 200 and body["outcome"] == "create"

    status, headers, body = ingest(client(name="Grace Hopper"), key="k-1")
    assert status == 200 and body["status"] == "Success" and "Idempotent-Replayed" not in headers


def test_it_needs_the_ingest_scope_and_sees_only_the_callers_tenant(tables):
    status, _, problem = validate(client(), scopes="read")
    assert status == 403 and problem["type"].endswith("/problems/forbidden")

    assert ingest(client(), tenant="t2")[0] == 200
    assert validate(client(), tenant="t1")[2]["outcome"] == "create"
    assert validate(client(step="update", name="X"), tenant="t1")[0] == 422


# agreement with /ingest: a property over generated event sequences -------------------------

CLIENT_IDS = ("C1", "C2")
LOAN_IDS = ("D1", "D2")
PAYMENT_IDS = ("PM1", "PM2", "PM3")

# Changes that break one rule each; applied to an otherwise well-formed event's data.
BREAKAGES = [
    {"currency": "EURO"},
    {"amount": Decimal("-1")},
    {"due_date": "2024-02-30"},
    {"surprise": True},
    {"client_type": "robot"},
    {"maturity_date": "2020-01-01"},
    {"installment_number": 0},
    {"email": "not-an-email"},
    {"currency": "USD"},
    {"kind": "purchase"},
]


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["client", "loan", "purchase", "payment", "operation"]))
    step = draw(st.sampled_from(["create", "create", "update", "delete"]))
    if kind == "client":
        fields = {"country": draw(st.sampled_from(["DE", "FR"]))} if step != "delete" else {}
        event = client(draw(st.sampled_from(CLIENT_IDS)), step, **fields)
    elif kind == "loan":
        fields = {"client_id": draw(st.sampled_from(CLIENT_IDS))} if step == "create" else {}
        if step == "update":
            fields = {"bank_ref": draw(st.sampled_from(["A", "B"]))}
        event = loan(draw(st.sampled_from(LOAN_IDS)), step, **fields)
    elif kind == "purchase":
        event = purchase("P1", step) if step != "create" else purchase(
            "P1", purchase_clients=[{"client_id": draw(st.sampled_from(CLIENT_IDS))}])
    elif kind == "payment":
        event = payment(draw(st.sampled_from(PAYMENT_IDS)), draw(st.sampled_from(["expected", "paid", "canceled"])),
                        disbursement_id=draw(st.sampled_from(LOAN_IDS)),
                        installment_number=draw(st.sampled_from([1, 2, None])))
    else:
        event = operation(disbursement_id=draw(st.sampled_from([*LOAN_IDS, None])))
    if draw(st.booleans()) and draw(st.booleans()):  # about one event in four is malformed
        event = {**event, "data": {**event["data"], **draw(st.sampled_from(BREAKAGES))}}
    if draw(st.integers(0, 14)) == 0:  # a broken envelope
        event = draw(st.sampled_from([{**event, "category": "loan"}, {**event, "source": "bank"},
                                      {"category": event["category"]}, {**event, "data": []}]))
    if draw(st.integers(0, 9)) == 0:
        event = {**event, "effective_at": draw(st.sampled_from(["2024-12-01", "2024-12-01T10:00:00", "yesterday"]))}
    return event


def outcome_label(answer: tuple[int, dict[str, str], Any]) -> None:
    """Label each example by what /ingest answered (see --hypothesis-show-statistics)."""
    event(str(answer[0]) if answer[0] != 200 else "200 " + answer[2]["status"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(events(), min_size=1, max_size=16))
def test_validate_and_ingest_agree_on_every_event(sequence):
    """Each event is validated, then ingested, against the state the events before it built:
    an accepted event is ingested with the outcome /validate announced, a refused one is
    refused by /ingest with the same problem, and /validate never changes the table."""
    with moto_tables() as dynamodb:
        for sent in sequence:
            before = stored(dynamodb)
            checked = validate(sent)
            assert stored(dynamodb) == before
            done = ingest(sent)
            assert checked[0] == done[0], (sent, checked[2], done[2])
            outcome_label(done)
            if done[0] == 200:
                answer = done[2]
                outcome = answer["step"] if answer["status"] == "Success" else "unchanged"
                assert checked[2] == {"valid": True, "category": answer["category"], "id": answer["id"],
                                      "step": answer["step"], "outcome": outcome, "warnings": answer["warnings"]}
            else:
                assert without_instance(checked[2]) == without_instance(done[2])
