"""Lambda layers: Ledgerline's shared code, and its third-party dependencies.

The dependency layer is built on the synth machine without Docker: pip downloads the wheels
published for the Lambda platform (Linux, arm64, CPython 3.13) into the layer's `python/`
directory. Its asset hash is fixed from requirements.txt, so an unchanged file reuses the
bundle already in the cloud assembly and CloudFormation sees no change.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import jsii
from aws_cdk import AssetHashType, BundlingOptions, ILocalBundling
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

# One place for the Python version: the functions' runtime and the wheels in the layer.
PYTHON_RUNTIME = lambda_.Runtime.PYTHON_3_13
PYTHON_VERSION = "3.13"
ARCHITECTURE = lambda_.Architecture.ARM_64
PIP_PLATFORM = "manylinux2014_aarch64"

_ASSET_EXCLUDES = ["**/__pycache__", "**/*.pyc", "**/.pytest_cache", "**/.mypy_cache"]


@jsii.implements(ILocalBundling)
class PipLocalBundling:
    """Install requirements.txt for the Lambda platform with the synth machine's pip.

    jsii calls `try_bundle(output_dir, options)` with positional arguments. It returns True
    or raises: a failed install must stop the synth, never fall back to a Docker build.
    """

    def __init__(self, requirements_file: Path) -> None:
        self._requirements_file = requirements_file

    def try_bundle(self, output_dir: str, options: BundlingOptions) -> bool:  # noqa: ARG002 (jsii signature)
        target = Path(output_dir) / "python"
        command = [
            sys.executable, "-m", "pip", "install",
            "--requirement", str(self._requirements_file),
            "--target", str(target),
            "--platform", PIP_PLATFORM,
            "--implementation", "cp",
            "--python-version", PYTHON_VERSION,
            "--only-binary=:all:",
            # .pyc files would be compiled by the synth machine's Python, not 3.13: useless.
            "--no-compile",
            "--disable-pip-version-check",
            "--quiet",
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(
                f"building the dependency layer failed (pip exit {result.returncode}):\n"
                f"{result.stdout}{result.stderr}"
            )
        # Console scripts are useless in a layer and carry the synth machine's interpreter path.
        shutil.rmtree(target / "bin", ignore_errors=True)
        return True


def requirements_hash(requirements_file: Path) -> str:
    """The dependency layer's asset hash: the requirements plus the target platform."""
    digest = hashlib.sha256()
    digest.update(f"{PIP_PLATFORM}|cp{PYTHON_VERSION}\n".encode())
    digest.update(requirements_file.read_bytes())
    return digest.hexdigest()


class Layers(Construct):
    """`core` (layers/core: the ledgerline package) and `dependencies` (requirements.txt)."""

    def __init__(self, scope: Construct, construct_id: str, *, project_root: Path) -> None:
        super().__init__(scope, construct_id)
        requirements = project_root / "requirements.txt"
        if not requirements.is_file():
            raise FileNotFoundError(f"the dependency layer is built from {requirements}, which is missing")

        self.core = lambda_.LayerVersion(
            self,
            "Core",
            description="Ledgerline shared code (domain, store, api)",
            code=lambda_.Code.from_asset(str(project_root / "layers" / "core"), exclude=_ASSET_EXCLUDES),
            compatible_runtimes=[PYTHON_RUNTIME],
            compatible_architectures=[ARCHITECTURE],
        )

        self.dependencies = lambda_.LayerVersion(
            self,
            "Dependencies",
            description="Ledgerline third-party packages from requirements.txt",
            code=lambda_.Code.from_asset(
                str(project_root),
                asset_hash_type=AssetHashType.CUSTOM,
                asset_hash=requirements_hash(requirements),
                bundling=BundlingOptions(
                    local=PipLocalBundling(requirements),
                    # Required by the API; never pulled, because local bundling never declines.
                    image=PYTHON_RUNTIME.bundling_image,
                ),
            ),
            compatible_runtimes=[PYTHON_RUNTIME],
            compatible_architectures=[ARCHITECTURE],
        )

    @property
    def all(self) -> list[lambda_.ILayerVersion]:
        # Both unpack into /opt/python without overlapping, so their order does not matter
        # (CDK sorts a function's layers anyway, see @aws-cdk/aws-lambda:recognizeLayerVersion).
        return [self.dependencies, self.core]
