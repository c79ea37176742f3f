"""Problem answers of the functions: RFC 9457 bodies, and the headers some statuses need."""

from __future__ import annotations

import json

from ledgerline.api.problems import ProblemError, problem_response


def test_a_401_from_a_function_challenges_for_a_bearer_token():
    response = problem_response(ProblemError("unauthorized", "A valid API key is required."), "req-1")

    assert response.status_code == 401 and response.headers["WWW-Authenticate"] == "Bearer"
    assert json.loads(response.body)["instance"] == "req-1"


def test_other_problems_do_not_challenge():
    response = problem_response(ProblemError("forbidden", "No scope."), "req-2")

    assert response.status_code == 403 and "WWW-Authenticate" not in response.headers
