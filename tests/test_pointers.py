"""Every pointer resolves: no text of the repository (or of the installed ``sims``/``theory`` packages)
refers to a file that is not in the repository.

A reference is a path under one of the repository's top-level folders (``docs/statements.md``,
``examples/relu_ntk_slope.py``, ``figures/report.html``, ...), a path into a folder that is not in the
repository at all (``shared/THEORY.md``), or a bare Markdown file name (``THEORY.md``). Templates
(``sims/checks/<name>.py``, ``figures/figures/*.png``) must resolve up to the first placeholder.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: text files scanned (by suffix or exact name)
TEXT_SUFFIXES = {".py", ".md", ".ipynb", ".toml", ".txt", ".cfg", ".ini", ".html", ".json", ".yml", ".yaml"}
TEXT_NAMES = {"Makefile", ".gitignore"}

#: folders a path reference may start with: the repository's own, and folders that are NOT in it (a
#: reference into those is always an error unless the file exists)
FOLDERS = ("docs", "examples", "figures", "notebooks", "benchmarks", "sims", "theory", "tests", "shared")

#: references that do not exist in a fresh clone because the code creates them at run time
RUNTIME_OUTPUTS = {
    "figures/measured": "hmin verify writes the raw measurements there (sims.verify)",
    "figures/runs": "hmin run stores finished units under OUT/runs/<config hash>/ with OUT = figures",
    "figures/seeds": "hmin verify --seeds writes each extra seed's figures under OUT/seeds/seed<k>/",
    "figures/confirmation": "hmin verify --confirm writes the fresh seeds' report under OUT/confirmation/",
    "figures/T1.png": "tests/test_verify.py checks that a report written under tmp_path names it",
}

#: references to files that other branches of this round add (the plug-in example and its guide), and
#: files whose stale references other branches fix (the theory tests and T7/T8 modules, reworded
#: there); each entry must still be needed: the test fails once the file exists / is clean, so the
#: entry is deleted after the merge instead of outliving its reason
PENDING_REFERENCES: set[str] = set()
PENDING_FILES: set[str] = set()

#: generated files committed with the code that will regenerate them; each entry must still contain a
#: bad reference (the test fails when it no longer does, so the entry cannot outlive its reason)
STALE_UNTIL_REGENERATED: dict[str, str] = {}

_PATH_RE = re.compile(r"(?<![\w./<>-])(" + "|".join(FOLDERS) + r")/([\w.*<>{}\[\]-]+(?:/[\w.*<>{}\[\]-]+)*)")
_MD_RE = re.compile(r"(?<![\w./-])([A-Za-z][\w-]*\.md)\b")


def _tracked_files() -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout
        files = [ROOT / line for line in out.splitlines() if line]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout (e.g. an sdist)
        files = [p for p in ROOT.rglob("*") if p.is_file() and ".venv" not in p.parts and ".git" not in p.parts]
    return [p for p in files if p.is_file() and (p.suffix in TEXT_SUFFIXES or p.name in TEXT_NAMES)]


def _package_files() -> list[Path]:
    from hmin import sims
    from hmin import theory

    out = []
    for pkg in (sims, theory):
        out += [p for p in Path(pkg.__file__).parent.rglob("*") if p.is_file() and p.suffix in TEXT_SUFFIXES
                and "__pycache__" not in p.parts]
    return out


def _resolves(ref: str) -> bool:
    ref = ref.rstrip(".")
    if any(ref == k or ref.startswith(k) for k in RUNTIME_OUTPUTS):
        return True
    cut = re.search(r"[*<>{}\[\]]", ref)
    if cut:  # a template: the part before the placeholder must exist (as a folder or a file prefix)
        head = ref[: cut.start()]
        head = head.rsplit("/", 1)[0] if not head.endswith("/") else head.rstrip("/")
        return (ROOT / head).exists()
    if (ROOT / ref).exists() or (ROOT / (ref + ".py")).exists():  # a path or a module path
        return True
    # a page of the course site (tools/course.py): a Sphinx document name (docs/statements) or its rendered
    # page (docs/statements.html) resolves when its Markdown source exists
    return (ROOT / (ref + ".md")).exists() or (ref.endswith(".html") and (ROOT / ref).with_suffix(".md").exists())


def bad_references(text: str, md_names: set[str]) -> list[str]:
    """References in ``text`` that do not resolve in the repository."""
    bad = []
    for m in _PATH_RE.finditer(text):
        ref = f"{m.group(1)}/{m.group(2)}".rstrip(".")
        if not _resolves(ref) and ref not in PENDING_REFERENCES:
            bad.append(ref)
    for m in _MD_RE.finditer(text):
        name = m.group(1)
        start = m.start(1)
        if start > 0 and text[start - 1] == "/":
            continue  # part of a path: checked above
        if name not in md_names:
            bad.append(name)
    return sorted(set(bad))


#: Markdown files that the code writes at run time (not in a fresh clone), and who writes them
GENERATED_MD = {
    "index.md": "tools/course.py writes the course site's front page into its build folder",
    "readme.md": "tools/course.py copies README.md into the course site's build folder as readme.md",
}


def _md_names() -> set[str]:
    return {p.name for p in ROOT.rglob("*.md") if ".venv" not in p.parts and ".git" not in p.parts} | set(GENERATED_MD)


def test_pattern_finds_references():
    """The scanner itself: it flags missing files and templates, and accepts existing ones."""
    names = {"README.md"}
    assert bad_references("see THEORY.md and shared/STYLE.md", names) == ["THEORY.md", "shared/STYLE.md"]
    assert bad_references("see README.md, sims/registry.py and sims/checks/<name>.py.", names) == []
    assert bad_references("docs/nowhere.md", names) == ["docs/nowhere.md"]
    assert bad_references("nope/x.md", {"x.md"}) == []


def test_every_pointer_resolves():
    md_names = _md_names()
    problems = {}
    files = sorted(set(_tracked_files()) | set(_package_files()))
    assert len(files) > 50, "the scan found too few files to be meaningful"
    for path in files:
        rel = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)
        if rel.startswith("tests/test_pointers.py"):
            continue  # this file names missing files on purpose
        bad = bad_references(path.read_text(encoding="utf-8", errors="replace"), md_names)
        # a relative link inside a generated report (figures/report.md: ![T4](figures/t04_...png)) resolves
        # against the report's own folder
        bad = [ref for ref in bad if not (path.parent / ref).exists()]
        if rel in STALE_UNTIL_REGENERATED or rel in PENDING_FILES:
            assert bad, f"{rel} no longer has a bad reference: remove it from STALE_UNTIL_REGENERATED / PENDING_FILES"
            continue
        if bad:
            problems[rel] = bad
    assert not problems, "references to files that are not in the repository:\n" + "\n".join(
        f"  {k}: {', '.join(v)}" for k, v in problems.items())


def test_pending_references_are_still_pending():
    """Once the other branch's file is merged, its entry in PENDING_REFERENCES must go."""
    resolved = [ref for ref in sorted(PENDING_REFERENCES) if _resolves(ref)]
    assert not resolved, f"{resolved} resolve now: remove them from PENDING_REFERENCES"


@pytest.mark.parametrize("ref", sorted(RUNTIME_OUTPUTS))
def test_runtime_outputs_are_not_committed_files(ref):
    """An allow-listed run-time output must not shadow a real (missing) repository file."""
    assert not (ROOT / ref).is_file()
