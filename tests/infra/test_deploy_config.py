"""Deploy-time settings: context beats environment beats defaults; bad values stop the synth."""

from __future__ import annotations

import aws_cdk as cdk
import pytest

from infra.config import ConfigError, DeployConfig, load_config


def config(context: dict | None = None, environ: dict | None = None) -> DeployConfig:
    return load_config(cdk.App(context=context or {}).node, environ or {})


def test_defaults_without_context_or_environment():
    loaded = config()

    assert loaded == DeployConfig()
    assert (loaded.stage, loaded.account, loaded.region) == ("dev", None, None)
    assert (loaded.rate_limit, loaded.burst_limit, loaded.daily_quota) == (25, 50, 500_000)
    assert loaded.stack_name == "Ledgerline-dev"


def test_environment_configures_a_deployment():
    loaded = config(environ={
        "LEDGERLINE_STAGE": "staging", "LEDGERLINE_RATE_LIMIT": "100", "LEDGERLINE_BURST_LIMIT": "200",
        "LEDGERLINE_DAILY_QUOTA": "2000000", "CDK_DEFAULT_ACCOUNT": "111111111111", "CDK_DEFAULT_REGION": "eu-west-1",
        "LEDGERLINE_LOG_LEVEL": "debug",
    })

    assert (loaded.stage, loaded.rate_limit, loaded.burst_limit, loaded.daily_quota) == ("staging", 100, 200, 2_000_000)
    assert (loaded.account, loaded.region, loaded.log_level) == ("111111111111", "eu-west-1", "DEBUG")


def test_context_wins_over_environment():
    loaded = config(
        context={"stage": "staging", "rate_limit": "40", "region": "us-east-1"},
        environ={"LEDGERLINE_STAGE": "qa", "LEDGERLINE_RATE_LIMIT": "10", "LEDGERLINE_REGION": "eu-west-1"},
    )

    assert (loaded.stage, loaded.rate_limit, loaded.region) == ("staging", 40, "us-east-1")


def test_demo_seed_is_off_unless_deployed_on():
    assert config().demo_seed is False
    assert config(environ={"LEDGERLINE_DEPLOY_DEMO_SEED": "true"}).demo_seed is True
    assert config(context={"demo_seed": "false"}, environ={"LEDGERLINE_DEPLOY_DEMO_SEED": "true"}).demo_seed is False


def test_ledgerline_variables_win_over_the_cdk_defaults():
    loaded = config(environ={"LEDGERLINE_ACCOUNT": "222222222222", "CDK_DEFAULT_ACCOUNT": "111111111111"})

    assert loaded.account == "222222222222"


@pytest.mark.parametrize(
    "context",
    [
        {"stage": "Prod"},
        {"stage": "a" * 21},
        {"rate_limit": 0},
        {"rate_limit": "fast"},
        {"rate_limit": 100, "burst_limit": 50},
        {"rate_limit": 1000},  # above the whole-stage ceiling
        {"authorizer_cache_seconds": 7200},
        {"log_level": "TRACE"},
        {"log_retention_days": 10},
        {"problem_base": "http://insecure.example"},
        {"demo_seed": "maybe"},
        {"trace_percent": "101"},
        {"trace_percent": "-1"},
        {"trace_percent": "lots"},
        {"trace_background": "sometimes"},
        {"stage": "prod", "account": "111111111111", "region": "eu-west-1", "alarm_email": "ops@example.com",
         "demo_seed": "true"},  # demo data never on production
    ],
)
def test_invalid_settings_are_refused(context):
    with pytest.raises(ConfigError):
        config(context=context)


def test_tracing_is_a_share_of_requests_and_background_functions_are_off_unless_asked():
    assert (config().trace_percent, config().trace_background) == (5.0, False)
    chosen = config(context={"trace_percent": "0.5"}, environ={"LEDGERLINE_TRACE_BACKGROUND": "true"})
    assert (chosen.trace_percent, chosen.trace_background) == (0.5, True)


def test_log_retention_maps_days_to_cloudwatch():
    assert config(context={"log_retention_days": 365}).log_retention == cdk.aws_logs.RetentionDays.ONE_YEAR


def test_problem_base_has_no_trailing_slash():
    assert config(context={"problem_base": "https://errors.example.com/"}).problem_base_url == "https://errors.example.com"


def test_app_is_environment_agnostic_without_account_and_region(built):
    assert built.stack.resolve(built.stack.account) == {"Ref": "AWS::AccountId"}
    assert built.stack.resolve(built.stack.region) == {"Ref": "AWS::Region"}
