"""Run one command and print its wall time, exit code and peak RSS as JSON.

``python -m puhui.bench.measure LOG -- CMD...``: CMD's output goes to LOG; the figures
come from ``os.wait4`` (the child and every descendant it reaped, e.g. dbt under an
Airflow task). The suite starts every measured command through this small process
because Linux carries a process's peak RSS across fork and exec: a child started
directly from the suite would report at least the suite's own peak (hundreds of MiB
once it has held a day's journal). This launcher stays small, so its child's figure is
the child's own. Only the standard library: nothing to inflate it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) < 3 or argv[1] != "--":
        print("usage: python -m puhui.bench.measure LOG -- CMD...", file=sys.stderr)
        return 2
    log_path, cmd = argv[0], argv[2:]
    started = time.perf_counter()
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    figures = {
        "seconds": round(time.perf_counter() - started, 2),
        "returncode": proc.returncode,
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
        "log": log_path,
    }
    print(json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
