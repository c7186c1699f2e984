"""The teaching notebook runs top to bottom (its code cells, in order, in one namespace)."""

import json
from pathlib import Path

import pytest

NB = Path(__file__).resolve().parents[1] / "notebooks" / "tour.ipynb"


@pytest.mark.slow
def test_tour_notebook_runs(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    cells = json.loads(NB.read_text())["cells"]
    ns: dict = {}
    for c in cells:
        if c["cell_type"] == "code":
            exec(compile("".join(c["source"]), f"{NB.name}:{c['id']}", "exec"), ns)  # noqa: S102
    assert 1.8 <= ns["fit"]["slope"] <= 2.2
    assert ns["g"].h_min >= ns["r"].h_min
