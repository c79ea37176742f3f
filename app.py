#!/usr/bin/env python3
"""CDK entry point: `python app.py` (make synth) or `cdk synth|deploy` (make deploy).

Run directly, a CDK app ignores cdk.json and writes to a temporary directory, so this file
loads cdk.json's context itself and writes the cloud assembly to $CDK_OUTDIR (set by the CDK
CLI) or ./cdk.out. Synth makes no AWS call: account and region come from context or the
environment, and without them the stack is environment-agnostic.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
# The stack builds its tables from ledgerline.store.schema, the module the Lambdas use.
_CORE = str(ROOT / "layers" / "core" / "python")
if _CORE not in sys.path:
    sys.path.insert(0, _CORE)

import aws_cdk as cdk  # noqa: E402
from cdk_nag import AwsSolutionsChecks  # noqa: E402

from infra.config import ConfigError, load_config  # noqa: E402
from infra.stack import LedgerlineStack  # noqa: E402


def cdk_json_context(root: Path = ROOT) -> dict[str, Any]:
    return json.loads((root / "cdk.json").read_text(encoding="utf-8")).get("context", {})


def build_app(
    *,
    context: Mapping[str, Any] | None = None,
    outdir: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[cdk.App, LedgerlineStack]:
    """The app and its one stack. `context` overrides cdk.json and the CLI's -c values."""
    app = cdk.App(
        # No AWS::CDK::Metadata resource: nothing about this deployment is reported to AWS.
        analytics_reporting=False,
        context=cdk_json_context(),
        post_cli_context=dict(context or {}),
        outdir=outdir or os.environ.get("CDK_OUTDIR") or str(ROOT / "cdk.out"),
    )
    config = load_config(app.node, environ)
    env = cdk.Environment(account=config.account, region=config.region) if config.account or config.region else None
    stack = LedgerlineStack(
        app,
        config.stack_name,
        config=config,
        project_root=ROOT,
        env=env,
        # A production stack can only be deleted after turning this off on purpose.
        termination_protection=config.is_production,
        description=f"Ledgerline ({config.stage}): partner data-intake API",
    )
    cdk.Tags.of(app).add("project", "ledgerline")
    cdk.Tags.of(app).add("stage", config.stage)
    # cdk-nag 3 is a validation plugin: synth fails on any finding not acknowledged with a reason.
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stack


def main() -> None:
    try:
        app, _ = build_app()
    except ConfigError as error:
        # A missing or invalid setting: one clear line, no traceback.
        sys.exit(f"Ledgerline: {error}")
    app.synth()


if __name__ == "__main__":
    main()
