"""A short run of benchmarks/load.py: 40 users for 8 s against the real `townqa bot` process.

Every question is answered, nothing is logged at ERROR level and the bot's memory does not run
away. Needs Node.js and npm, like the other emulator tests. The full run is
`python benchmarks/load.py` (200 users, 120 s).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "load.py"


def test_forty_users_for_eight_seconds_all_answered_without_errors():
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--users", "40", "--seconds", "8", "--interval", "2",
         "--answer-timeout", "10", "--json", "--quiet"],
        cwd=ROOT, capture_output=True, text=True, timeout=90,
    )
    assert done.stdout.strip(), done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    summary = f"{done.stdout}\n{done.stderr[-3000:]}"
    assert figures["sent"] >= 40, summary
    assert figures["answered"] == figures["sent"], summary
    assert figures["unanswered"] == 0 and figures["send_failed"] == 0, summary
    assert figures["throttled"] == 0, summary
    assert figures["error_lines"] == 0, summary
    assert not figures["bot_died"] and figures["bot_exit_code"] == 0, summary
    rss = figures["rss_mb"]
    assert rss["start"] and rss["end"] and rss["peak"], summary
    assert rss["peak"] - rss["start"] < 100, summary
    assert done.returncode == 0, summary
