"""The machine's load during a run, without blaming the benchmark's own processes on others.

The load average counts every runnable process, the benchmark's gunicorn workers, clients
and the PostgreSQL backends serving them included: on a shared machine it cannot tell
"the machine was busy" from "the benchmark was busy". So a thread samples /proc twice a
second: the CPU time of every process (`/proc/<pid>/stat`) and of the whole machine
(`/proc/stat`). The benchmark's share is its own process tree (this process, gunicorn and
its workers, the job worker) plus the PostgreSQL backends connected to its database
(`pg_stat_activity`); everything else is "others". Each timed operation gets a window:
the CPUs, on average, that others kept busy during it, and the processes that did.

Linux only (/proc); elsewhere the figures are simply absent.
"""

import os
import threading
import time
from collections import Counter
from pathlib import Path

import psycopg

PROC = Path("/proc")
TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
INTERVAL = 0.5


def _machine_busy_ticks() -> int:
    """CPU ticks spent on anything but idle and I/O wait, all CPUs together."""
    fields = (PROC / "stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return user + nice + system + irq + softirq + steal


def _processes() -> dict[int, tuple[str, int, int]]:
    """pid → (name, parent pid, CPU ticks so far) of every process still there."""
    out = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        out[int(entry.name)] = (name, int(fields[1]), int(fields[11]) + int(fields[12]))
    return out


def _label(pid: int, name: str, cache: dict) -> str:
    """A process's name, with its command line when the name alone says little (python)."""
    if pid not in cache:
        label = name
        if name.startswith("python") or name in {"pytest", "node", "sh", "bash"}:
            try:
                argv = (PROC / str(pid) / "cmdline").read_bytes().split(b"\0")
            except OSError:
                argv = []
            words = [a.decode(errors="replace").rsplit("/", 1)[-1] for a in argv if a][:4]
            label = " ".join(words) or name
        cache[pid] = label[:60]
    return cache[pid]


def _descendants(root: int, processes: dict) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, (_, parent, _) in processes.items():
        children.setdefault(parent, []).append(pid)
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        found.add(pid)
        todo.extend(children.get(pid, ()))
    return found


class LoadSampler:
    """Samples in a thread from start() to stop(); window(name) marks one operation."""

    def __init__(self, database_url: str, database_name: str):
        self.url = database_url
        self.database = database_name
        self.samples: list[dict] = []  # {"at", "others_cpus", "ours_cpus", "others": Counter}
        self._stop = threading.Event()
        self._thread = None
        self.available = (PROC / "stat").exists()

    def _our_backends(self, conn) -> set[int]:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", [self.database]
        ).fetchall()
        return {pid for (pid,) in rows}

    def _run(self) -> None:
        labels: dict[int, str] = {}
        with psycopg.connect(self.url, autocommit=True) as conn:
            previous = _processes()
            previous_busy = _machine_busy_ticks()
            previous_at = time.monotonic()
            while not self._stop.wait(INTERVAL):
                processes = _processes()
                busy = _machine_busy_ticks()
                now = time.monotonic()
                ours = _descendants(os.getpid(), processes) | self._our_backends(conn)
                ours_ticks = 0
                others = Counter()
                for pid, (name, _, ticks) in processes.items():
                    # A process born since the last sample spent all its ticks in between.
                    spent = ticks - previous.get(pid, (name, 0, 0))[2]
                    if spent <= 0:
                        continue
                    if pid in ours:
                        ours_ticks += spent
                    else:
                        others[_label(pid, name, labels)] += spent
                seconds = (now - previous_at) * TICK
                machine = max(busy - previous_busy, 0)
                self.samples.append(
                    {
                        "at": now,
                        # Machine-wide busy time minus ours: includes others' processes that
                        # ended between two samples, which no per-process figure would see.
                        "others_cpus": max(machine - ours_ticks, 0) / seconds,
                        "ours_cpus": ours_ticks / seconds,
                        "others": Counter({k: v / seconds for k, v in others.items()}),
                    }
                )
                previous, previous_busy, previous_at = processes, busy, now

    def start(self) -> "LoadSampler":
        if self.available:
            self._thread = threading.Thread(target=self._run, daemon=True, name="load-sampler")
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)

    def mark(self) -> int:
        return len(self.samples)

    def summary(self, first: int, last: int | None = None) -> dict:
        """Average CPUs busy with others' and with the benchmark's processes between two
        marks, the load average now, and the three other processes that used most CPU."""
        window = self.samples[first:last]
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
        if not window:
            return {"others_cpus": None, "ours_cpus": None, "loadavg_1min": load, "top_others": []}
        names = Counter()
        for sample in window:
            names.update(sample["others"])
        return {
            "others_cpus": round(sum(s["others_cpus"] for s in window) / len(window), 2),
            "ours_cpus": round(sum(s["ours_cpus"] for s in window) / len(window), 2),
            "loadavg_1min": round(load, 2) if load is not None else None,
            "top_others": [
                [name, round(cpus / len(window), 2)] for name, cpus in names.most_common(3)
            ],
        }
