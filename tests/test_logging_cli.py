"""Standard logging and CLI conventions: module loggers under ``hmin``, -v/-q (HMIN_QUIET as alias),
a tqdm bar in library use when tqdm is installed, exit 2 for usage/input errors and 1 for runtime
failures, choices taken from the dicts that dispatch."""

from __future__ import annotations

import logging
import sys
import types

import numpy as np
import pytest

from hmin.sims import progress as progress_mod
from hmin.sims.cli import main
from hmin.sims.errors import DivergedError


@pytest.fixture
def fresh_logging(monkeypatch):
    """No CLI handler and the hmin logger's level restored afterwards (cli.main configures both)."""
    root = logging.getLogger("hmin")
    level = root.level
    monkeypatch.setattr(progress_mod, "_CLI_HANDLER", None)
    handlers = list(root.handlers)
    root.setLevel(logging.NOTSET)  # as in a fresh library process (an earlier cli.main call set it)
    yield root
    for h in root.handlers[:]:
        if h not in handlers:
            root.removeHandler(h)
    root.setLevel(level)


def test_progress_lines_are_log_records(caplog, monkeypatch, fresh_logging):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # tqdm not installed
    with caplog.at_level(logging.INFO, logger="hmin"):
        assert list(progress_mod.progress(range(3), "demo")) == [0, 1, 2]
    msgs = [r.getMessage() for r in caplog.records if r.name == "hmin"]
    assert len(msgs) == 3 and msgs[-1].startswith("[demo] 3/3 done"), msgs


def test_module_loggers_sit_under_hmin(caplog):
    from hmin.sims import verify

    assert verify.log.__self__.name == "hmin.sims.verify"  # logging.getLogger(__name__).info
    with caplog.at_level(logging.INFO, logger="hmin"):
        verify.log("hello")
    assert [(r.name, r.getMessage()) for r in caplog.records] == [("hmin.sims.verify", "hello")]


def test_tqdm_bar_in_library_use_only(monkeypatch, fresh_logging):
    seen = []

    def fake_tqdm(items, **kw):
        seen.append(kw)
        return iter(items)

    monkeypatch.setitem(sys.modules, "tqdm.auto", types.SimpleNamespace(tqdm=fake_tqdm))
    monkeypatch.delenv("HMIN_QUIET", raising=False)
    assert list(progress_mod.progress(range(4), "bar")) == [0, 1, 2, 3]
    assert seen == [{"desc": "bar", "total": 4, "leave": False}]
    fresh_logging.setLevel(logging.WARNING)  # a user who silenced hmin gets no bar either
    list(progress_mod.progress(range(4), "bar"))
    fresh_logging.setLevel(logging.NOTSET)
    monkeypatch.setenv("HMIN_QUIET", "1")
    list(progress_mod.progress(range(4), "bar"))
    monkeypatch.delenv("HMIN_QUIET")
    progress_mod.configure_cli(0)  # the command line: lines, never a bar
    list(progress_mod.progress(range(4), "bar"))
    assert len(seen) == 1


@pytest.mark.parametrize("argv,quiet_env,level", [
    (["-q"], None, logging.WARNING), ([], None, logging.INFO), (["-v"], None, logging.DEBUG),
    ([], "1", logging.WARNING), (["-v"], "1", logging.WARNING),
])
def test_verbosity_flags_and_the_hmin_quiet_alias(tmp_path, monkeypatch, fresh_logging, argv, quiet_env, level):
    np.save(tmp_path / "p.npy", np.random.default_rng(0).random((12, 2)))
    if quiet_env is None:
        monkeypatch.delenv("HMIN_QUIET", raising=False)
    else:
        monkeypatch.setenv("HMIN_QUIET", quiet_env)
    for args in ([*argv, "geometry", str(tmp_path / "p.npy")], ["geometry", str(tmp_path / "p.npy"), *argv]):
        assert main(args) == 0
        assert fresh_logging.level == level


def test_runtime_failure_exits_1_and_input_error_2(tmp_path, monkeypatch, capsys):
    from hmin.sims.commands import geometry

    def diverges(args):
        raise DivergedError("GD diverged at step 3")

    monkeypatch.setattr(geometry, "main", diverges)
    assert main(["geometry", str(tmp_path / "p.npy")]) == 1
    assert capsys.readouterr().err.strip() == "hmin geometry: error: GD diverged at step 3"
    with pytest.raises(SystemExit) as e:
        main(["geometry", "--bogus"])
    assert e.value.code == 2


def test_help_lists_the_choices_and_the_exit_statuses(capsys):
    from hmin.sims.gd import OPTIMIZERS
    from hmin.sims.models import ACTIVATIONS, ARCHITECTURES
    from hmin.sims.select import SELECTORS

    for verb, names in (("train", [*OPTIMIZERS, *ARCHITECTURES, *ACTIVATIONS]), ("select", list(SELECTORS))):
        with pytest.raises(SystemExit):
            main([verb, "--help"])
        out = " ".join(capsys.readouterr().out.split())
        assert all(n in out for n in names), (verb, names)
        assert "exit status: 0 success; 1 a runtime failure" in out and "2 a usage or input error" in out
