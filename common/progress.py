"""Progress on stderr: items done, items/s and time left, at most once a second (every 10 s to a file)."""
from __future__ import annotations

import sys
import time


def duration(seconds: float) -> str:
    seconds = int(max(0, seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s" if m else f"{s}s"


def pace(rate: float, unit: str) -> str:
    """Items per second, or seconds per item when each takes longer than a second (a probe, a fold):
    '0.0 probes/s' says nothing."""
    if 0 < rate < 1:
        return f"{1 / rate:.1f} s per {unit.rstrip('s') or unit}"
    return f"{rate:.1f} {unit}/s"


class Progress:
    def __init__(self, label: str, total: int, unit: str = "reviews", stream=None):
        self.label, self.total, self.unit = label, total, unit
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.perf_counter()
        self.last = 0.0
        self.done = 0.0

    def update(self, done: float) -> None:
        self.done = done
        now = time.perf_counter()
        if now - self.last < (1.0 if self.tty else 10.0):
            return
        self.last = now
        self._print(end="\r" if self.tty else "\n")

    def _print(self, end: str) -> None:
        elapsed = time.perf_counter() - self.start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.done) / rate if rate > 0 else 0.0
        print(f"{self.label}: {int(self.done)}/{self.total} {self.unit}, {pace(rate, self.unit)}, "
              f"{duration(left)} left   ", end=end, file=self.stream, flush=True)

    def finish(self) -> float:
        elapsed = time.perf_counter() - self.start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        print(f"{self.label}: {int(self.done)}/{self.total} {self.unit} in {duration(elapsed)} "
              f"({pace(rate, self.unit)})   ", file=self.stream, flush=True)
        return elapsed
