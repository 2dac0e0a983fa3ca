"""Progress bars: tqdm when installed, the built-in bar otherwise, and
nothing written when stderr is not a terminal."""

import io
import sys

import pytest

import lobkit
from lobkit import progress
from lobkit.testing import synthetic_l2


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def test_no_terminal_no_output(capsys):
    ev = synthetic_l2(10_000, seed=1)
    lobkit.replay(ev, depth=0, progress=True, chunk=1000)
    with progress.stage("load x"):
        pass
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("with_tqdm", [True, False])
def test_a_terminal_gets_the_bar_and_the_stages(monkeypatch, with_tqdm):
    if with_tqdm:
        pytest.importorskip("tqdm")
    else:
        monkeypatch.setitem(sys.modules, "tqdm", None)  # import fails: the built-in bar
    err = FakeTTY()
    monkeypatch.setattr(sys, "stderr", err)
    ev = synthetic_l2(10_000, seed=1)
    seen = []
    res = lobkit.replay(ev, depth=0, progress=True, chunk=1000)
    assert len(res) == len(ev)
    with progress.stage("write table.parquet"):
        seen.append(1)
    out = err.getvalue()
    assert seen == [1] and "replay" in out and "write table.parquet" in out
    if not with_tqdm:
        assert "10,000/10,000" in out and "done in" in out


def test_a_callable_still_gets_the_counts():
    done = []
    lobkit.replay(synthetic_l2(5_000, seed=2), depth=0, progress=done.append, chunk=1000)
    assert done == [1000, 2000, 3000, 4000, 5000]
