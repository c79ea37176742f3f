"""Lambda layers: Ledgerline's shared code, and its third-party dependencies.

The dependency layer is built on the synth machine without Docker, reproducibly:
- `requirements.lock` pins every runtime dependency, transitive ones included, with the hashes
  of the wheels published for the Lambda platform (CPython 3.13, manylinux aarch64). pip installs
  exactly those files (`--require-hashes --no-deps`) into the layer's `python/` directory;
  `make lock` re-resolves it from requirements.txt (docs/operations.md).
- Test folders and data the code never reads (pycountry's translations) are pruned.
- The modules are compiled once, at bundling, by a Python 3.13 interpreter found on PATH,
  through pyenv or through uv, with `--invalidation-mode unchecked-hash`: /opt is read-only on
  Lambda, so without .pyc every cold start compiles every module it imports. Without such an
  interpreter the layer is built without .pyc, and the synth says so.
The asset hash covers the lock file, the platform, the bundling steps and whether .pyc are
included, so one hash always means one layer content, and an unchanged lock reuses the bundle
already in the cloud assembly.
"""

from __future__ import annotations

import glob
import hashlib
import os
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
LOCK_FILE = "requirements.lock"
# Where Lambda unpacks the layer: tracebacks name /opt/python/..., not the synth machine's path.
LAYER_PYTHON_PATH = "/opt/python"
# Bump when the bundling steps below change what a layer contains for the same lock file.
BUNDLING_VERSION = "2"
# Removed from every installed package: never imported by the code.
PRUNED_DIRECTORY_NAMES = ("tests", "test")
PRUNED_PATHS = ("pycountry/locales",)  # gettext translations of country names (about 21 MB)

_ASSET_EXCLUDES = ["**/__pycache__", "**/*.pyc", "**/.pytest_cache", "**/.mypy_cache"]


def _is_python(interpreter: str) -> bool:
    try:
        result = subprocess.run([interpreter, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                                capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return False
    return result.returncode == 0 and result.stdout.strip() == PYTHON_VERSION


def find_lambda_python() -> str | None:
    """A CPython of the Lambda runtime's version: on PATH, under pyenv, or known to uv."""
    candidates = [shutil.which(f"python{PYTHON_VERSION}")]
    pyenv_root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    candidates += sorted(glob.glob(f"{pyenv_root}/versions/{PYTHON_VERSION}.*/bin/python{PYTHON_VERSION}"),
                         reverse=True)
    uv = shutil.which("uv") or shutil.which("uv", path=str(Path(sys.executable).parent))
    if uv:
        # `uv python find` only looks at installed interpreters; it never downloads one.
        found = subprocess.run([uv, "python", "find", PYTHON_VERSION], capture_output=True, text=True, check=False)
        if found.returncode == 0:
            candidates.append(found.stdout.strip())
    return next((candidate for candidate in candidates if candidate and _is_python(candidate)), None)


def prune(target: Path) -> None:
    """Drop test folders and unused data from an installed layer."""
    for name in PRUNED_DIRECTORY_NAMES:
        for folder in sorted(target.rglob(name), reverse=True):
            if folder.is_dir():
                shutil.rmtree(folder)
    for relative in PRUNED_PATHS:
        shutil.rmtree(target / relative, ignore_errors=True)
    # Console scripts are useless in a layer and carry the synth machine's interpreter path.
    shutil.rmtree(target / "bin", ignore_errors=True)


def _run(command: list[str], what: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{what} failed (exit {result.returncode}):\n{result.stdout}{result.stderr}")


@jsii.implements(ILocalBundling)
class PipLocalBundling:
    """Install the lock file for the Lambda platform with the synth machine's pip, prune, precompile.

    jsii calls `try_bundle(output_dir, options)` with positional arguments. It returns True
    or raises: a failed install must stop the synth, never fall back to a Docker build.
    """

    def __init__(self, lock_file: Path, lambda_python: str | None) -> None:
        self._lock_file = lock_file
        self._lambda_python = lambda_python

    def try_bundle(self, output_dir: str, options: BundlingOptions) -> bool:  # noqa: ARG002 (jsii signature)
        target = Path(output_dir) / "python"
        _run([
            sys.executable, "-m", "pip", "install",
            "--requirement", str(self._lock_file),
            # Exactly the locked files: every wheel checked against its hash, nothing resolved.
            "--require-hashes", "--no-deps",
            "--target", str(target),
            "--platform", PIP_PLATFORM,
            "--implementation", "cp",
            "--python-version", PYTHON_VERSION,
            "--only-binary=:all:",
            # pip would compile with the synth machine's Python; 3.13 does it below.
            "--no-compile",
            "--disable-pip-version-check",
            "--quiet",
        ], "building the dependency layer (pip install)")
        prune(target)
        if self._lambda_python is None:
            print(f"WARNING: no Python {PYTHON_VERSION} found (PATH, pyenv, uv): the dependency layer ships "
                  "without .pyc and every cold start compiles its imports. Install Python "
                  f"{PYTHON_VERSION} (e.g. `uv python install {PYTHON_VERSION}`) and synth again.", file=sys.stderr)
        else:
            _run([
                self._lambda_python, "-m", "compileall", "-q", "-j", "0",
                "--invalidation-mode", "unchecked-hash",
                "-s", str(target), "-p", LAYER_PYTHON_PATH, str(target),
            ], f"compiling the dependency layer with {self._lambda_python}")
        return True


def requirements_hash(lock_file: Path, precompiled: bool) -> str:
    """The dependency layer's asset hash: the lock, the platform and how the layer is built."""
    digest = hashlib.sha256()
    digest.update(f"{PIP_PLATFORM}|cp{PYTHON_VERSION}|{BUNDLING_VERSION}|pyc={precompiled}\n".encode())
    digest.update(lock_file.read_bytes())
    return digest.hexdigest()


class Layers(Construct):
    """`core` (layers/core: the ledgerline package) and `dependencies` (requirements.lock)."""

    def __init__(self, scope: Construct, construct_id: str, *, project_root: Path) -> None:
        super().__init__(scope, construct_id)
        lock_file = project_root / LOCK_FILE
        if not lock_file.is_file():
            raise FileNotFoundError(f"the dependency layer is built from {lock_file}, which is missing (make lock)")
        lambda_python = find_lambda_python()

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
            description="Ledgerline third-party packages from requirements.lock",
            code=lambda_.Code.from_asset(
                str(project_root),
                asset_hash_type=AssetHashType.CUSTOM,
                asset_hash=requirements_hash(lock_file, precompiled=lambda_python is not None),
                bundling=BundlingOptions(
                    local=PipLocalBundling(lock_file, lambda_python),
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
