"""One build and one synth of the real CDK app per test session.

Bundling is skipped (context `aws:cdk:bundling-stacks: []`), so no pip download and no Docker:
the dependency layer keeps its fixed asset hash, computed from requirements.txt. The app is
built exactly as `python app.py` builds it, cdk-nag plugin included, from an empty environment
so that the developer's AWS settings cannot leak into the template.
"""

from __future__ import annotations

import json

import pytest

from tests.infra.stack_helpers import Built, Synthesized, build


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build(tmp_path_factory.mktemp("cdk.out"))


@pytest.fixture(scope="session")
def synthesized(built: Built) -> Synthesized:
    try:
        assembly = built.app.synth()
    except RuntimeError as error:
        report = built.outdir / "validation-report.json"
        details = report.read_text(encoding="utf-8") if report.exists() else ""
        raise AssertionError(f"synth failed: {error}\n{details}") from error
    template = assembly.get_stack_by_name(built.stack.stack_name).template
    # The jsii proxy is a mapping; plain JSON keeps the tests independent of it.
    return Synthesized(built=built, template=json.loads(json.dumps(template)))


PROD = {"stage": "prod", "account": "123456789012", "region": "eu-west-1", "alarm_email": "oncall@example.com"}


@pytest.fixture(scope="session")
def synthesized_prod(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The production stage, as `make synth STAGE=prod ACCOUNT=... REGION=... ALARM_EMAIL=...` builds it."""
    built = build(tmp_path_factory.mktemp("cdk.out.prod"), context=PROD)
    template = built.app.synth().get_stack_by_name(built.stack.stack_name).template
    return Synthesized(built=built, template=json.loads(json.dumps(template)))
