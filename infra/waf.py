"""AWS WAF in front of the API stage (on for `prod`, `waf` setting elsewhere).

A regional web ACL associated with the stage, evaluated before API Gateway runs the authorizer:
1. a per-IP rate-based rule, so a client hammering the API with bogus tokens is blocked before
   every request costs an authorizer invocation; its limit is never below one partner key's
   steady rate over the same window (infra/config.py checks it);
2. the AWS managed common rule set (OWASP-style probes, bad bots, oversized parts), except
   `SizeRestrictions_BODY`, which blocks bodies over 8 KB: ingest bodies go up to 256 KiB, so
   that rule only counts;
3. the AWS managed known-bad-inputs rule group (exploit patterns such as Log4j lookups).
Everything else is allowed; the authorizer and the usage plan do the rest.
"""

from __future__ import annotations

from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from infra.config import WAF_WINDOW_SECONDS, DeployConfig

COMMON_RULE_SET = "AWSManagedRulesCommonRuleSet"
KNOWN_BAD_INPUTS = "AWSManagedRulesKnownBadInputsRuleSet"
# Common rule set rules that would refuse legitimate partner traffic: counted, not blocked.
COUNTED_COMMON_RULES = ("SizeRestrictions_BODY",)


def _visibility(metric_name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric_name, sampled_requests_enabled=True
    )


def _managed(name: str, priority: int, metric_prefix: str, counted: tuple[str, ...] = ()) -> wafv2.CfnWebACL.RuleProperty:
    return wafv2.CfnWebACL.RuleProperty(
        name=name,
        priority=priority,
        # The managed group's own actions apply (none overrides them to count).
        override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
        statement=wafv2.CfnWebACL.StatementProperty(
            managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                vendor_name="AWS",
                name=name,
                rule_action_overrides=[
                    wafv2.CfnWebACL.RuleActionOverrideProperty(
                        name=rule, action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={})
                    )
                    for rule in counted
                ] or None,
            )
        ),
        visibility_config=_visibility(f"{metric_prefix}-{name}"),
    )


class ApiFirewall(Construct):
    """The web ACL and its association with the API stage."""

    def __init__(self, scope: Construct, construct_id: str, *, config: DeployConfig, stage: apigw.Stage) -> None:
        super().__init__(scope, construct_id)
        prefix = f"ledgerline-{config.stage}"

        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            name=f"{prefix}-api",
            description="Ledgerline API: per-IP rate limit, AWS common rule set, known bad inputs",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility(f"{prefix}-api"),
            rules=[
                wafv2.CfnWebACL.RuleProperty(
                    name="RequestsPerIp",
                    priority=0,
                    action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                            aggregate_key_type="IP",
                            limit=config.web_acl_ip_limit,
                            evaluation_window_sec=WAF_WINDOW_SECONDS,
                        )
                    ),
                    visibility_config=_visibility(f"{prefix}-RequestsPerIp"),
                ),
                _managed(COMMON_RULE_SET, 1, prefix, COUNTED_COMMON_RULES),
                _managed(KNOWN_BAD_INPUTS, 2, prefix),
            ],
        )
        self.association = wafv2.CfnWebACLAssociation(
            self, "StageAssociation", resource_arn=stage.stage_arn, web_acl_arn=self.web_acl.attr_arn
        )
