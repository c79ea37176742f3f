"""The dependency layer: the lock agrees with requirements.txt, and a real bundle is fit for Lambda.

`test_real_bundle_*` really installs the locked wheels (pip's download cache makes reruns quick),
prunes and precompiles them through the CDK asset machinery, as `make synth` does.
"""

from __future__ import annotations

import re
from pathlib import Path

import aws_cdk as cdk
import pytest

from infra.layers import LOCK_FILE, PYTHON_VERSION, Layers, find_lambda_python

ROOT = Path(__file__).resolve().parents[2]
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024
ELF_MACHINE_AARCH64 = 183
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s\\;]+)")


def _name(raw: str) -> str:
    return re.sub(r"[-_.]+", "-", raw).lower()


def pins(text: str) -> dict[str, str]:
    return {_name(m.group(1)): m.group(3) for line in text.splitlines() if (m := _PIN.match(line.strip()))}


def lock_entries(text: str) -> dict[str, dict]:
    """name -> {"version", "hashes", "via"} from a pip-compile / uv lock file."""
    entries: dict[str, dict] = {}
    current = None
    for line in text.splitlines():
        if (m := _PIN.match(line)) is not None:
            current = entries.setdefault(_name(m.group(1)), {"version": m.group(3), "hashes": 0, "via": set()})
        elif current is not None and line.strip().startswith("--hash=sha256:"):
            current["hashes"] += 1
        elif current is not None and line.strip().startswith("#"):
            via = line.strip().lstrip("#").strip()
            via = via.removeprefix("via").strip()
            if via:
                current["via"].add("-r requirements.txt" if "requirements.txt" in via else _name(via.split()[0]))
    return entries


def disagreements(requirements_text: str, lock_text: str) -> dict[str, tuple[str, str | None]]:
    """Requirements whose pinned version the lock does not hold: name -> (required, locked)."""
    locked = lock_entries(lock_text)
    return {name: (version, locked.get(name, {}).get("version")) for name, version in pins(requirements_text).items()
            if locked.get(name, {}).get("version") != version}


def test_lock_pins_every_requirement_at_its_version():
    found = disagreements((ROOT / "requirements.txt").read_text(encoding="utf-8"),
                          (ROOT / LOCK_FILE).read_text(encoding="utf-8"))

    assert not found, f"requirements.txt and {LOCK_FILE} disagree (run `make lock`): {found}"


def test_lock_has_hashes_and_nothing_stale():
    locked = lock_entries((ROOT / LOCK_FILE).read_text(encoding="utf-8"))
    required = set(pins((ROOT / "requirements.txt").read_text(encoding="utf-8")))

    assert {"botocore", "urllib3", "typing-extensions", "dnspython"} <= set(locked)  # transitive ones too
    for name, entry in locked.items():
        assert entry["hashes"] >= 1, name
        # Each entry is required directly, or by another locked package.
        assert name in required or entry["via"] & set(locked), f"{name} is in the lock but nothing needs it"


def test_lock_check_catches_a_bumped_or_added_requirement():
    requirements = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    lock = (ROOT / LOCK_FILE).read_text(encoding="utf-8")
    pydantic = pins(requirements)["pydantic"]

    bumped = requirements.replace(f"pydantic=={pydantic}", "pydantic==99.0.0")
    assert disagreements(bumped, lock) == {"pydantic": ("99.0.0", pydantic)}
    added = requirements + "httpx==0.28.1\n"
    assert disagreements(added, lock) == {"httpx": ("0.28.1", None)}


# -- a real bundle ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("cdk.out.bundled")
    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, "LayerOnly")
    layers = Layers(stack, "Layers", project_root=ROOT)
    app.synth()
    asset_hash = stack.resolve(layers.dependencies.node.default_child.content)["s3Key"].removesuffix(".zip")
    return outdir / f"asset.{asset_hash}" / "python"


def _size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


@pytest.mark.skipif(find_lambda_python() is None, reason=f"no Python {PYTHON_VERSION} to precompile with")
def test_real_bundle_ships_python_313_bytecode(bundle):
    tag = f"cpython-{PYTHON_VERSION.replace('.', '')}"
    compiled = list(bundle.rglob("*.pyc"))

    assert compiled and all(tag in path.name for path in compiled)
    assert (bundle / "pydantic" / "__pycache__" / f"main.{tag}.pyc").is_file()
    # unchecked-hash: flags = 0b01 in the header, the source is never stat'ed on /opt.
    header = (bundle / "pydantic" / "__pycache__" / f"main.{tag}.pyc").read_bytes()[4:8]
    assert int.from_bytes(header, "little") == 0b01


def test_real_bundle_has_only_aarch64_extensions(bundle):
    extensions = list(bundle.rglob("*.so"))

    assert any("pydantic_core" in str(path) for path in extensions)
    for path in extensions:
        header = path.read_bytes()[:20]
        assert header[:4] == b"\x7fELF", path
        assert int.from_bytes(header[18:20], "little") == ELF_MACHINE_AARCH64, path


def test_real_bundle_is_pruned_and_fits_lambda(bundle):
    assert not [path for path in bundle.rglob("*") if path.is_dir() and path.name in ("tests", "test")]
    assert not (bundle / "pycountry" / "locales").exists()
    assert (bundle / "pycountry" / "databases").is_dir()
    assert not (bundle / "bin").exists()

    code = _size(ROOT / "layers" / "core") + max(_size(ROOT / "functions" / name) for name in
                                                 ("authorizer", "ingest", "tables", "worker"))
    assert _size(bundle) + code < LAMBDA_UNZIPPED_LIMIT
