"""cdk-nag acknowledgements, each with a reason that a reviewer can check."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct

MIN_REASON_LENGTH = 40


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge one cdk-nag finding on `scope` (and its children).

    `rule_id` is a rule (`AwsSolutions-L1`) or one finding of a granular rule
    (`AwsSolutions-IAM5[Resource::*]`). A reason must say why the finding is acceptable here.
    """
    if len(reason.strip()) < MIN_REASON_LENGTH:
        raise ValueError(f"acknowledging {rule_id} needs a real reason, got {reason!r}")
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))
