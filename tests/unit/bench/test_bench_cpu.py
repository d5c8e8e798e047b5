"""CPU read from /proc: a process's own time, and its tree's including live children."""

import os
import subprocess
import sys
import time

from bench.cpu import process_cpu, process_tree_cpu

BUSY_CHILD = ("import time\n"
              "end = time.process_time() + 0.3\n"
              "while time.process_time() < end: pass\n"
              "time.sleep(30)")


def test_a_tree_counts_its_live_children_and_a_process_only_itself():
    child = subprocess.Popen([sys.executable, "-c", BUSY_CHILD])
    try:
        deadline = time.monotonic() + 20
        while process_cpu(child.pid) < 0.25 and time.monotonic() < deadline:
            time.sleep(0.05)
        me = os.getpid()
        assert process_cpu(child.pid) >= 0.25
        assert process_tree_cpu(me) - process_cpu(me) >= 0.25
    finally:
        child.kill()
        child.wait()
