"""The ingest benchmark's quick mode still runs (it drives the server's real metrics paths: pipe and HTTP)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.helpers import ROOT


def test_metrics_ingest_quick_mode_reports_rates() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks/metrics_ingest.py"), "--quick", "--no-mlflow"],
                          capture_output=True, text=True, timeout=240, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"ours  : 40,000 points .* = [\d,]+ points/s", done.stdout), done.stdout
    assert re.search(r"10,000 points: [\d.]+ ms", done.stdout), done.stdout
    assert re.search(r"ours  : 40,000 points of the same stream over HTTP .* = [\d,]+ points/s", done.stdout), done.stdout
    assert re.search(r"ours  : the same calls storing nothing .* = [\d,]+ points/s", done.stdout), done.stdout


@pytest.mark.slow
@pytest.mark.reliability
def test_memory_stays_within_its_bound_under_hostile_but_allowed_work() -> None:
    """Issue 14: a 1x6000 sample view, 32 PNGs of 6320x6320 in one request and 4 parallel exports, RSS of the
    server and its children sampled throughout: at most 1.5 GB above idle."""
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks/memory_bounds.py"), "--bound-mb", "1536"],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert "within the bound" in done.stdout, done.stdout
