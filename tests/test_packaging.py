"""One top-level package: the folders theory/ and sims/ install as hmin.theory and hmin.sims.

The old import paths (``import sims``, ``import theory``) stay as deprecation shims for one release
(`hmin._compat`): the same module objects, never a second copy.
"""

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


def _mapped_packages() -> set[str]:
    """Every folder with an __init__.py under the mapped roots, as its installed package name."""
    found = set()
    for pkg, folder in PYPROJECT["tool"]["setuptools"]["package-dir"].items():
        root = REPO / folder
        for init in root.rglob("__init__.py"):
            rel = init.parent.relative_to(root).parts
            if "__pycache__" not in rel:
                found.add(".".join((pkg, *rel)))
    return found


def test_every_package_folder_is_listed_for_the_wheel():
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    assert _mapped_packages() == listed


def test_a_plant_of_a_forgotten_folder_is_seen(tmp_path, monkeypatch):
    """The listing check can fail: a new subpackage not in the list is reported."""
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    assert _mapped_packages() | {"hmin.sims.newthing"} != listed


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(REPO)],
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0 and "No matching distribution" in r.stderr:  # pragma: no cover - offline build env
        pytest.skip("no setuptools reachable to build a wheel")
    assert r.returncode == 0, r.stderr[-2000:]
    (whl,) = out.glob("hmin_toolkit-*.whl")
    return whl


def test_the_wheel_installs_nothing_at_top_level_but_hmin(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"hmin"}, tops
    for must in ("hmin/__init__.py", "hmin/__main__.py", "hmin/sims/checks/t04_pair_bound.py",
                 "hmin/theory/t04_pair_bound.py", "hmin/sims/commands/verify.py"):
        assert must in names, must
    entry = [n for n in names if n.endswith("entry_points.txt")]
    text = zipfile.ZipFile(wheel).read(entry[0]).decode()
    assert "hmin = hmin.sims.cli:main" in text


def test_python_m_hmin_version():
    r = subprocess.run([sys.executable, "-m", "hmin", "--version"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.startswith("hmin ")
    import hmin

    assert r.stdout.split()[1] == hmin.__version__ != "0+unknown"


def test_import_hmin_is_cheap_and_lazy():
    code = "import sys, hmin; bad = [m for m in ('jax', 'sympy', 'hmin.sims') if m in sys.modules]; sys.exit(bool(bad))"
    assert subprocess.run([sys.executable, "-c", code], timeout=120).returncode == 0


def test_old_import_paths_are_the_same_modules_and_warn(tmp_path):
    """A 0.1 plug-in's ``from sims.registry import Check`` gets hmin's own class (one registry, not two)."""
    code = """
import warnings, sys
warnings.simplefilter("error")
import hmin.sims.registry as new
from hmin import _compat
_compat.install()
try:
    import sims.registry
except DeprecationWarning as w:
    assert "hmin.sims" in str(w), w
else:
    raise SystemExit("no DeprecationWarning")
warnings.simplefilter("ignore")
import sims.registry as old, theory
assert old is new and theory is sys.modules["hmin.theory"]
"""
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]


def test_old_names_from_a_checkout_resolve_to_hmin(tmp_path):
    """Run from the repository root, the folder sims/ is on sys.path as top-level ``sims``: it redirects."""
    code = ("import warnings; warnings.simplefilter('ignore')\n"
            "import sims, sims.registry, hmin.sims.registry, sys\n"
            "assert sims is sys.modules['hmin.sims'] and sims.registry is hmin.sims.registry\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
