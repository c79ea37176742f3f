"""The three Lambda functions and their layers, as synthesized."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import aws_cdk as cdk
import pytest

from infra.layers import LOCK_FILE, Layers, PipLocalBundling, requirements_hash
from tests.infra.stack_helpers import FUNCTIONS, NO_BUNDLING, arn_of, function_id, ref

ROOT = Path(__file__).resolve().parents[2]

COMMON_ENV = {
    "POWERTOOLS_SERVICE_NAME": "ledgerline",
    "POWERTOOLS_METRICS_NAMESPACE": "Ledgerline/dev",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "LEDGERLINE_PROBLEM_BASE": "https://ledgerline.dev",
}


def layer_ids(synthesized) -> tuple[str, str]:
    layers = synthesized.built.stack.layers
    return synthesized.built.logical_id(layers.dependencies), synthesized.built.logical_id(layers.core)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_runs_python_313_on_arm64_with_both_layers(synthesized, name):
    props = synthesized.resource(function_id(synthesized, name))["Properties"]

    assert props["Runtime"] == "python3.13"
    assert props["Architectures"] == ["arm64"]
    assert props["Handler"] == "handler.handler"
    # CDK orders layers itself (feature flag recognizeLayerVersion); they share no file.
    assert sorted(props["Layers"], key=json.dumps) == sorted(map(ref, layer_ids(synthesized)), key=json.dumps)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_logs_json_to_its_own_group_with_retention_and_traces(synthesized, name):
    props = synthesized.resource(function_id(synthesized, name))["Properties"]

    logging = props["LoggingConfig"]
    assert logging["LogFormat"] == "JSON"
    assert logging["ApplicationLogLevel"] == "INFO"
    log_group = synthesized.resource(logging["LogGroup"]["Ref"])
    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert log_group["Properties"]["RetentionInDays"] == 90
    assert props["TracingConfig"] == {"Mode": "Active"}


@pytest.mark.parametrize(
    ("name", "memory", "timeout"),
    [("authorizer", 256, 5), ("ingest", 512, 20), ("tables", 512, 15), ("distributions", 1024, 28),
     ("webhooks", 256, 15)],
)
def test_function_memory_and_timeout_stay_inside_the_gateway_limit(synthesized, name, memory, timeout):
    props = synthesized.resource(function_id(synthesized, name))["Properties"]

    assert (props["MemorySize"], props["Timeout"]) == (memory, timeout)
    assert props["Timeout"] < 29  # API Gateway's integration timeout
    assert "ReservedConcurrentExecutions" not in props


def test_each_function_gets_only_the_settings_it_needs(synthesized):
    stack = synthesized.built
    records = stack.logical_id(stack.stack.storage.records)
    idempotency = stack.logical_id(stack.stack.storage.idempotency)
    secret = stack.logical_id(stack.stack.storage.cursor_secret)
    expected = {
        "authorizer": {"LEDGERLINE_TABLE": ref(records)},
        "ingest": {"LEDGERLINE_TABLE": ref(records), "LEDGERLINE_IDEMPOTENCY_TABLE": ref(idempotency)},
        "tables": {"LEDGERLINE_TABLE": ref(records), "LEDGERLINE_CURSOR_SECRET_ARN": ref(secret)},
        "distributions": {"LEDGERLINE_TABLE": ref(records), "LEDGERLINE_IDEMPOTENCY_TABLE": ref(idempotency),
                          "LEDGERLINE_CURSOR_SECRET_ARN": ref(secret), "LEDGERLINE_DEMO_SEED": "false"},
        "webhooks": {"LEDGERLINE_TABLE": ref(records), "LEDGERLINE_IDEMPOTENCY_TABLE": ref(idempotency),
                     "LEDGERLINE_CURSOR_SECRET_ARN": ref(secret),
                     "LEDGERLINE_WEBHOOK_KEY_ARN": ref(stack.logical_id(stack.stack.storage.webhook_key))},
    }
    for name, specific in expected.items():
        env = synthesized.resource(function_id(synthesized, name))["Properties"]["Environment"]["Variables"]
        assert env == {**COMMON_ENV, **specific}, name


def test_each_function_has_its_own_role(synthesized):
    roles = [
        synthesized.resource(function_id(synthesized, name))["Properties"]["Role"] for name in FUNCTIONS
    ]
    assert len({json.dumps(role) for role in roles}) == len(FUNCTIONS)
    for role in roles:
        assert role == arn_of(role["Fn::GetAtt"][0])
        props = synthesized.resource(role["Fn::GetAtt"][0])["Properties"]
        assert props["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}
        assert "ManagedPolicyArns" not in props


def _asset_dir(synthesized, logical_id: str) -> Path:
    """The staged copy of a function's code or a layer's content in the cloud assembly."""
    props = synthesized.resource(logical_id)["Properties"]
    code = props.get("Code") or props["Content"]
    return synthesized.built.outdir / f"asset.{code['S3Key'].removesuffix('.zip')}"


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_code_is_its_own_directory(synthesized, name):
    asset = _asset_dir(synthesized, function_id(synthesized, name))
    source = ROOT / "functions" / name

    assert (source / "handler.py").is_file(), f"functions/{name}/handler.py is missing"
    assert (asset / "handler.py").read_bytes() == (source / "handler.py").read_bytes()


def test_core_layer_ships_the_ledgerline_package(synthesized):
    _, core = layer_ids(synthesized)
    asset = _asset_dir(synthesized, core)

    assert (asset / "python" / "ledgerline" / "store" / "schema.py").is_file()
    assert not list(asset.rglob("__pycache__"))
    props = synthesized.resource(core)["Properties"]
    assert props["CompatibleRuntimes"] == ["python3.13"] and props["CompatibleArchitectures"] == ["arm64"]


def test_dependency_layer_targets_the_functions_platform(synthesized):
    dependencies, _ = layer_ids(synthesized)
    props = synthesized.resource(dependencies)["Properties"]

    assert props["CompatibleRuntimes"] == ["python3.13"] and props["CompatibleArchitectures"] == ["arm64"]


def _dependency_layer_key(project_root: Path, outdir: Path) -> str:
    app = cdk.App(context=NO_BUNDLING, outdir=str(outdir))
    stack = cdk.Stack(app, "LayerOnly")
    layers = Layers(stack, "Layers", project_root=project_root)
    return stack.resolve(layers.dependencies.node.default_child.content)["s3Key"]


def test_dependency_layer_hash_follows_the_lock_file_only(tmp_path):
    root = tmp_path / "project"
    (root / "layers" / "core" / "python").mkdir(parents=True)
    lock = root / LOCK_FILE
    lock.write_text("pydantic==2.13.4 --hash=sha256:aa\n")

    first = _dependency_layer_key(root, tmp_path / "out1")
    (root / "README.md").write_text("any other change in the project\n")
    unrelated_change = _dependency_layer_key(root, tmp_path / "out2")
    lock.write_text("pydantic==2.13.5 --hash=sha256:bb\n")
    new_lock = _dependency_layer_key(root, tmp_path / "out3")

    assert first == unrelated_change
    assert new_lock != first


def test_layer_hash_says_whether_the_layer_has_pyc(tmp_path):
    first, second = tmp_path / "a.lock", tmp_path / "b.lock"
    first.write_text("pydantic==2.13.4\n")
    second.write_text("pydantic==2.13.5\n")

    assert requirements_hash(first, precompiled=True) != requirements_hash(second, precompiled=True)
    assert requirements_hash(first, precompiled=True) == requirements_hash(first, precompiled=True)
    # A machine without Python 3.13 builds another layer, so it must not reuse the same hash.
    assert requirements_hash(first, precompiled=True) != requirements_hash(first, precompiled=False)


def test_missing_lock_file_stops_the_synth(tmp_path):
    (tmp_path / "layers" / "core" / "python").mkdir(parents=True)

    with pytest.raises(FileNotFoundError, match="requirements.lock"):
        _dependency_layer_key(tmp_path, tmp_path / "out")


class FakeRun:
    """Stands in for subprocess.run: records pip and compileall calls, fills --target like pip."""

    def __init__(self, returncode: int = 0) -> None:
        self.returncode = returncode
        self.commands: list[list[str]] = []

    def __call__(self, command, **kwargs):
        self.commands.append(command)
        if "--target" in command:
            target = Path(command[command.index("--target") + 1])
            (target / "bin").mkdir(parents=True)
            (target / "bin" / "some-script").write_text("#!/usr/bin/python3.11\n")
            (target / "pydantic").mkdir()
            (target / "dns" / "tests").mkdir(parents=True)
            (target / "pycountry" / "locales" / "de" / "LC_MESSAGES").mkdir(parents=True)
            (target / "pycountry" / "databases").mkdir(parents=True)
        return subprocess.CompletedProcess(command, self.returncode, stdout="", stderr="no matching wheel")


def test_local_bundling_installs_exactly_the_locked_wheels_without_docker(tmp_path, monkeypatch):
    run = FakeRun()
    monkeypatch.setattr("infra.layers.subprocess.run", run)
    lock = tmp_path / LOCK_FILE
    lock.write_text("pydantic==2.13.4 --hash=sha256:aa\n")

    assert PipLocalBundling(lock, "/usr/bin/python3.13").try_bundle(str(tmp_path / "out"), None) is True

    pip, compileall = (" ".join(command) for command in run.commands)
    target = tmp_path / "out" / "python"
    for expected in ("-m pip install", f"--requirement {lock}", "--require-hashes", "--no-deps",
                     f"--target {target}", "--platform manylinux2014_aarch64", "--implementation cp",
                     "--python-version 3.13", "--only-binary=:all:", "--no-compile"):
        assert expected in pip
    assert compileall.startswith("/usr/bin/python3.13 -m compileall")
    assert "--invalidation-mode unchecked-hash" in compileall and f"-s {target} -p /opt/python" in compileall
    assert (target / "pydantic").is_dir() and (target / "pycountry" / "databases").is_dir()
    for pruned in ("bin", "dns/tests", "pycountry/locales"):
        assert not (target / pruned).exists(), pruned


def test_without_python_313_the_layer_is_built_without_pyc_and_says_so(tmp_path, monkeypatch, capsys):
    run = FakeRun()
    monkeypatch.setattr("infra.layers.subprocess.run", run)

    assert PipLocalBundling(tmp_path / LOCK_FILE, None).try_bundle(str(tmp_path / "out"), None) is True

    assert len(run.commands) == 1  # pip only, no compileall
    assert "WARNING: no Python 3.13 found" in capsys.readouterr().err


def test_local_bundling_failure_stops_the_synth(tmp_path, monkeypatch):
    monkeypatch.setattr("infra.layers.subprocess.run", FakeRun(returncode=1))

    with pytest.raises(RuntimeError, match="no matching wheel"):
        PipLocalBundling(tmp_path / LOCK_FILE, None).try_bundle(str(tmp_path / "out"), None)


def test_every_function_environment_satisfies_the_settings(synthesized):
    from ledgerline import settings as env
    from ledgerline.settings import load_settings

    functions = {k: v for k, v in synthesized.resources("AWS::Lambda::Function").items()
                 if env.TABLE in v["Properties"].get("Environment", {}).get("Variables", {})}
    assert len(functions) >= 4  # authorizer, ingest, tables, worker
    for name, function in functions.items():
        variables = {k: v if isinstance(v, str) else "resolved-at-deploy"
                     for k, v in function["Properties"]["Environment"]["Variables"].items()}
        load_settings(variables)  # raises, naming the variable, when one is missing or invalid
        assert set(variables) & {env.TABLE, env.PROBLEM_BASE} == {env.TABLE, env.PROBLEM_BASE}, name


def test_demo_seed_is_a_deploy_setting_off_by_default(tmp_path):
    from tests.infra.stack_helpers import build

    built = build(tmp_path, {"demo_seed": "true"})
    template = built.app.synth().get_stack_by_name(built.stack.stack_name).template
    function = template["Resources"][built.logical_id(built.stack.functions["distributions"].function)]
    assert function["Properties"]["Environment"]["Variables"]["LEDGERLINE_DEMO_SEED"] == "true"
