# CDK targets, included by the Makefile (which defines VENV, PY and STAMP: the .venv with
# requirements-dev.txt installed). Synth needs neither AWS credentials nor Docker; deploy uses
# the pinned CDK CLI major (plain `aws-cdk` resolves to an unusable 3.0.0).

CDK_OUTDIR ?= cdk.out
CDK := npx --yes aws-cdk@2
# No version check, notices or telemetry: quiet, reproducible runs (cdk.json says the same).
CDK_ENV := CDK_DISABLE_VERSION_CHECK=1 CDK_DISABLE_CLI_TELEMETRY=true
# Extra CLI arguments, e.g. make deploy CDK_ARGS="-c stage=prod --require-approval never"
CDK_ARGS ?=

.PHONY: cdk-deps synth deploy

## cdk-deps: the .venv with requirements-dev.txt (aws-cdk-lib, constructs, cdk-nag, cfn-lint)
cdk-deps: $(STAMP)

## synth: CloudFormation template and assets into $(CDK_OUTDIR) (default cdk.out)
synth: cdk-deps
	CDK_OUTDIR=$(CDK_OUTDIR) $(PY) app.py
	@echo "Synthesized into $(CDK_OUTDIR)/"

## deploy: synth and deploy the stack with the account's credentials (see docs/operations.md)
deploy: cdk-deps
	$(CDK_ENV) PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(CDK) deploy --app "$(PY) app.py" \
		--output $(CDK_OUTDIR) --no-notices $(CDK_ARGS)
