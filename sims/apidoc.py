"""The API reference, ``docs/api.md``, generated from the docstrings of the public API.

The public API is what a notebook or a plug-in imports: the names listed in ``__all__`` of the
packages ``hmin.sims`` and ``hmin.theory`` and of each of their modules whose name does not start with ``_``.
Modules without ``__all__`` (the command line ``sims.cli`` and ``sims.commands.*``, the numeric
checks ``sims.checks.*``, which ``docs/statements.md`` documents) are not part of it.

For each public name: its kind, its signature and its whole docstring: the first paragraph on the
name's line, the rest (arguments, returns, examples, math) in a block below it, as pdoc and Sphinx
autodoc render it (for a constant: the ``#:`` comment above its assignment). Each module's whole
docstring heads its section. ``tests/test_reference.py`` fails when the
committed ``docs/api.md`` is stale or misses a public name. Regenerate with
``python tools/reference.py`` (``make docs``).

Example:
    >>> mods = public_modules()
    >>> mods[0], "hmin.sims.registry" in mods, "hmin.sims.checks._trajectories" in mods
    ('hmin.sims', True, False)
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re

__all__ = ["PACKAGES", "public_modules", "public_names", "api_markdown", "first_paragraph", "rest_of_doc"]

#: The packages whose public API is documented.
PACKAGES = ("hmin.sims", "hmin.theory")

_ADDR = re.compile(r" at 0x[0-9a-fA-F]+")
_PATHCLS = re.compile(r"\b(?:Posix|Windows)Path\(")


def _clean(s: str) -> str:
    """Remove what differs between machines: memory addresses, the concrete Path class."""
    return _PATHCLS.sub("Path(", _ADDR.sub("", s))


def public_modules(packages=PACKAGES) -> list[str]:
    """Names of the packages and their non-private modules that define ``__all__``, sorted within a package.

    Args:
        packages: top-level package names.

    Returns:
        Module names, each package first.
    """
    out: list[str] = []
    for name in packages:
        pkg = importlib.import_module(name)
        mods = [name]
        for info in pkgutil.walk_packages(pkg.__path__, name + "."):
            if any(part.startswith("_") for part in info.name.split(".")):
                continue
            mods.append(info.name)
        for m in [mods[0]] + sorted(mods[1:]):
            if hasattr(importlib.import_module(m), "__all__"):
                out.append(m)
    return out


def public_names(packages=PACKAGES) -> dict[str, list[str]]:
    """module name -> its ``__all__`` (in the order written), for every module of `public_modules`."""
    return {m: list(importlib.import_module(m).__all__) for m in public_modules(packages)}


def first_paragraph(doc: str | None) -> str:
    """The first paragraph of a docstring, on one line.

    Example:
        >>> first_paragraph("Sum two numbers.\\n\\n    Args:\\n        a: first.")
        'Sum two numbers.'
    """
    if not doc:
        return ""
    doc = inspect.cleandoc(doc)
    return " ".join(doc.split("\n\n", 1)[0].split())


def rest_of_doc(doc: str | None) -> str:
    """Everything of a docstring after its first paragraph (arguments, returns, examples), dedented.

    Example:
        >>> rest_of_doc("Sum two numbers.\\n\\n    Args:\\n        a: first.")
        'Args:\\n    a: first.'
    """
    if not doc:
        return ""
    doc = inspect.cleandoc(doc)
    parts = doc.split("\n\n", 1)
    return parts[1].strip("\n") if len(parts) > 1 else ""


def _block(text: str, indent: str = "  ") -> list[str]:
    """``text`` as a fenced block indented under a list item (nothing when empty)."""
    if not text.strip():
        return []
    fence = "````" if "```" in text else "```"
    return ["", indent + fence + "text"] + [(indent + ln).rstrip() for ln in text.splitlines()] + [indent + fence, ""]


def _comment_doc(module, name: str, _depth: int = 0) -> str:
    """The ``#:`` comment lines right above ``name = ...`` in the module's source, following
    ``from X import name`` (a re-exported constant is documented where it is defined)."""
    try:
        src = inspect.getsource(module)
    except (OSError, TypeError):
        return ""
    lines = src.splitlines()
    for node in ast.parse(src).body:
        targets = []
        if isinstance(node, ast.Assign):
            targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            targets = [node.target.id]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and _depth < 3:
            for alias in node.names:
                if (alias.asname or alias.name) == name and any(node.module == p or node.module.startswith(p + ".") for p in PACKAGES):
                    return _comment_doc(importlib.import_module(node.module), alias.name, _depth + 1)
        if name in targets:
            i, comment = node.lineno - 2, []
            while i >= 0 and lines[i].lstrip().startswith("#:"):
                comment.insert(0, lines[i].lstrip()[2:].strip())
                i -= 1
            return " ".join(comment)
    return ""


def _signature(obj) -> str:
    try:
        sig = str(inspect.signature(obj))
    except (TypeError, ValueError):
        return "(...)"
    return _clean(sig)


def _kind(obj) -> str:
    if inspect.isclass(obj):
        return "exception" if issubclass(obj, BaseException) else "class"
    if inspect.ismodule(obj):
        return "module"
    if callable(obj):
        return "function"
    return "constant"


def _entry(modname: str, module, name: str) -> list[str]:
    obj = getattr(module, name)
    kind = _kind(obj)
    home = getattr(obj, "__module__", None) if kind in ("class", "exception", "function") else None
    reexport = f" (defined in `{home}`)" if home and home != modname and home.split(".")[0] in PACKAGES else ""
    if kind == "module":
        head = f"- **`{name}`** (module `{obj.__name__}`)"
        doc = first_paragraph(obj.__doc__)
    elif kind == "constant":
        value = _clean(repr(obj))
        shown = f" = `{value}`" if len(value) <= 70 and "`" not in value else f" ({type(obj).__name__})"
        head = f"- **`{name}`**{shown}"
        doc = _comment_doc(module, name)
        if not doc and type(obj).__name__ == "Statement" and hasattr(obj, "title"):
            doc = f"the statement {obj.id} ({obj.kind}): {obj.title}; see docs/statements.md"
    else:
        sig = _signature(obj)
        head = f"- {kind} **`{name}{sig}`**{reexport}" if "`" not in sig else f"- {kind} **{name}**{reexport}"
        doc = first_paragraph(inspect.getdoc(obj))
    lines = [head + (f": {doc}" if doc else ": (no docstring)")]
    if kind in ("class", "exception", "function") and (home == modname or not reexport):
        lines += _block(rest_of_doc(inspect.getdoc(obj)))
    if kind in ("class", "exception") and home == modname:
        lines += _members(obj)
    return lines


def _members(cls) -> list[str]:
    """Public methods and properties defined in the class body itself (not inherited), in source order."""
    out = []
    for name, attr in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(attr, property):
            out.append(f"  - property `{name}`: {first_paragraph(attr.__doc__) or '(no docstring)'}")
        elif isinstance(attr, (staticmethod, classmethod)) or inspect.isfunction(attr):
            fn = attr.__func__ if isinstance(attr, (staticmethod, classmethod)) else attr
            out.append(f"  - method `{name}{_signature(fn)}`: {first_paragraph(fn.__doc__) or '(no docstring)'}")
            out += _block(rest_of_doc(fn.__doc__), "    ")
    return out


def api_markdown(packages=PACKAGES) -> str:
    """The API reference as Markdown: per public module, its docstring, then every name of its ``__all__``
    with its kind, signature and whole docstring (first paragraph on the line, the rest in a block).

    Deterministic: memory addresses are removed from signatures and values.
    """
    out = ["# API reference", "",
           "Generated from the docstrings by `python tools/reference.py` (`make docs`); do not edit by hand. "
           "The public API is every name in `__all__` of the packages "
           + " and ".join(f"`{p}`" for p in packages)
           + " and of their modules whose name does not start with `_`. The statements themselves, their "
           "symbolic checks and their numeric checks are described in [statements.md](statements.md).", ""]
    mods = public_modules(packages)
    out += ["Modules: " + ", ".join(f"[`{m}`](#{m.replace('.', '')})" for m in mods) + ".", ""]
    for m in mods:
        module = importlib.import_module(m)
        out += [f"## {m}", ""]
        doc = first_paragraph(module.__doc__)
        if doc:
            out += [doc, ""]
        rest = rest_of_doc(module.__doc__)
        if rest:
            out += ["<details><summary>module documentation</summary>", ""] + _block(rest, "") + ["</details>", ""]
        for name in module.__all__:
            out += _entry(m, module, name)
        out.append("")
    return "\n".join(out).rstrip() + "\n"
