"""Saying, in one line, why a point's worker (or a ``--command`` program) failed.

The sweep runs every worker in its own session (:func:`gctune.sweep.isolation.run_isolated`),
logs its output, and reads its failure from that log: gctune's own diagnoses first
(``gctune:`` lines from the worker or the memory watchdog), then the interpreter's
signals, exceptions and exit statuses.
"""

from __future__ import annotations

import re
import signal

__all__ = ["failure_reason", "last_line", "signal_name"]

_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit)\b")


def signal_name(number: int) -> str:
    """``SIGKILL`` for 9, and so on; ``signal N`` for a number of no known signal."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def failure_reason(returncode: int, log_text: str, max_memory: int) -> str:
    """Why a worker (or pyperf's manager) that exited with ``returncode`` failed."""
    lines = [line.strip() for line in log_text.splitlines() if line.strip()]
    last = last_line(log_text) or "no output"
    # gctune's own diagnoses (the worker's, or the memory watchdog's) come first
    for line in reversed(lines):
        if line.startswith("gctune:"):
            return line.removeprefix("gctune:").strip()
    if "Cannot recover from MemoryError" in log_text:
        # CPython aborts this way when even its MemoryError cannot be built: the worker
        # reached its address-space limit (see gctune.sweep.isolation.worker_rss)
        cap = max_memory / 1024**3
        return f"exceeded the memory cap ({cap:.2f} GiB): the interpreter aborted on MemoryError"
    signalled = re.search(r"failed with exit code -(\d+)", log_text)
    if signalled:
        name = signal_name(int(signalled.group(1)))
        hint = " (the kernel's OOM killer sends SIGKILL)" if name == "SIGKILL" else ""
        return f"worker crashed: killed by {name}{hint}"
    if returncode < 0:
        name = signal_name(-returncode)
        hint = " (the kernel's OOM killer sends SIGKILL)" if name == "SIGKILL" else ""
        return f"worker crashed: killed by {name}{hint}"
    if "didn't produce JSON result" in log_text:
        return "worker exited without a result (status 0)"
    raised = [
        line
        for line in lines
        if _EXCEPTION_LINE.match(line) and "failed with exit code" not in line
    ]
    if raised:
        return f"worker raised {raised[0]}"
    status = re.search(r"failed with exit code (\d+)", log_text)
    if status:
        return f"worker exited with status {status.group(1)}"
    if last.startswith("Traceback") or last == "no output":
        return f"worker exited with status {returncode}"
    return f"worker exited with status {returncode}: {last}"


def last_line(output: str | bytes) -> str:
    """The last line of ``output`` that holds more than white space, stripped; "" if none."""
    text = output.decode(errors="replace") if isinstance(output, bytes) else output
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""
