"""The ingest benchmark's quick mode still runs (it drives the server's real metrics path)."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.helpers import ROOT


def test_metrics_ingest_quick_mode_reports_rates() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks/metrics_ingest.py"), "--quick", "--no-mlflow"],
                          capture_output=True, text=True, timeout=240, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"ours  : 40,000 points .* = [\d,]+ points/s", done.stdout), done.stdout
    assert re.search(r"10,000 points: [\d.]+ ms", done.stdout), done.stdout
