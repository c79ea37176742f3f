# CDK targets, included by the Makefile (which defines VENV, PY and STAMP: the .venv with
# requirements-dev.txt installed). Synth needs neither AWS credentials nor Docker.
#
#   make synth|diff|deploy|destroy|bootstrap STAGE=dev
#   make synth|diff|deploy|destroy|bootstrap STAGE=prod ACCOUNT=123456789012 REGION=eu-west-1 ALARM_EMAIL=oncall@example.com
#
# STAGE, ACCOUNT, REGION and ALARM_EMAIL reach app.py as LEDGERLINE_* variables (infra/config.py);
# cdk.json context wins over them. cdk.json's `app` runs .venv/bin/python, so the CLI works from
# the checkout with or without make.

CDK_OUTDIR ?= cdk.out
# The CLI is pinned to one release (the unversioned `aws-cdk` resolves to an unusable 3.0.0).
CDK_CLI_VERSION := 2.1148.1
CDK := npx --yes aws-cdk@$(CDK_CLI_VERSION)
STAGE ?= dev
STACK := Ledgerline-$(STAGE)
# No version check, notices or telemetry: quiet, reproducible runs (cdk.json says the same).
# jsii (the bridge between aws-cdk-lib and Python) prints a full-screen banner on Node 20, which
# is past its end of life; it still works. Node 22 or later prints nothing; this silences 20 only.
CDK_ENV := CDK_DISABLE_VERSION_CHECK=1 CDK_DISABLE_CLI_TELEMETRY=true \
	JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 \
	LEDGERLINE_STAGE=$(STAGE) \
	$(if $(ACCOUNT),LEDGERLINE_ACCOUNT=$(ACCOUNT)) \
	$(if $(REGION),LEDGERLINE_REGION=$(REGION)) \
	$(if $(ALARM_EMAIL),LEDGERLINE_ALARM_EMAIL=$(ALARM_EMAIL))
# Extra CLI arguments, e.g. make deploy STAGE=prod ... CDK_ARGS="--require-approval never"
CDK_ARGS ?=

.PHONY: cdk-deps synth diff deploy destroy bootstrap lock

## cdk-deps: the .venv with requirements-dev.txt (aws-cdk-lib, constructs, cdk-nag, cfn-lint)
cdk-deps: $(STAMP)

## synth: CloudFormation template and assets of STAGE into $(CDK_OUTDIR) (default cdk.out); no AWS call
synth: cdk-deps
	$(CDK_ENV) CDK_OUTDIR=$(CDK_OUTDIR) $(PY) app.py
	@echo "Synthesized $(STACK) into $(CDK_OUTDIR)/"

## bootstrap: the CDK toolkit stack (asset bucket, deploy roles) in the target account and region, once
bootstrap: cdk-deps
	$(CDK_ENV) $(CDK) bootstrap --output $(CDK_OUTDIR) --no-notices \
		$(if $(ACCOUNT),$(if $(REGION),aws://$(ACCOUNT)/$(REGION))) $(CDK_ARGS)

## diff: what a deploy of STAGE would change in the account
diff: cdk-deps
	$(CDK_ENV) $(CDK) diff $(STACK) --output $(CDK_OUTDIR) --no-notices $(CDK_ARGS)

## deploy: synth and deploy STAGE with the account's credentials (see docs/operations.md)
deploy: cdk-deps
	$(CDK_ENV) $(CDK) deploy $(STACK) --output $(CDK_OUTDIR) --no-notices $(CDK_ARGS)

## destroy: delete STAGE's stack (the records table and log groups stay: docs/operations.md)
destroy: cdk-deps
	$(CDK_ENV) $(CDK) destroy $(STACK) --output $(CDK_OUTDIR) --no-notices $(CDK_ARGS)

## lock: re-resolve requirements.lock (every runtime dependency, with hashes) for Lambda: cp313, manylinux aarch64
lock: cdk-deps
	$(VENV)/bin/uv pip compile requirements.txt --quiet --generate-hashes \
		--python-platform aarch64-manylinux2014 --python-version 3.13 \
		--custom-compile-command "make lock" --output-file requirements.lock
