"""How many of each worker the local stack runs, and where each extra one lives.

``DEMO_WORKERS`` (for example ``normalizer=2,starter=2,orchestration=2``; default one of
each) asks for more workers of the services that share their work through Kafka's consumer
groups (the faust workers) or Temporal's task queue (the orchestration worker). The first
of each keeps its name and port; the n-th is ``<name>-<n>`` on the first port plus
100 x (n - 1), with its own faust data directory, because two RocksDB stores can never
share one. Pure: the setting in, the instances out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

SETTING = "DEMO_WORKERS"
# The name users type -> the service's own name in infra/services.py.
SCALABLE = {"normalizer": "normalizer", "starter": "starter",
            "orchestration": "orchestration-worker"}
MAX_WORKERS = 4
PORT_STEP = 100


class WorkerCountError(ValueError):
    """A DEMO_WORKERS value that cannot be used; the message names the setting."""


@dataclass(frozen=True, slots=True)
class Instance:
    service: str  # the first instance's name, e.g. "normalizer"
    number: int  # 1 for the first

    @property
    def name(self) -> str:
        return self.service if self.number == 1 else f"{self.service}-{self.number}"

    def port(self, first_port: int) -> int:
        return first_port + PORT_STEP * (self.number - 1)


def worker_counts(env: Mapping[str, str]) -> dict[str, int]:
    """Service name -> how many; every scalable service is listed, at least once."""
    counts = dict.fromkeys(SCALABLE.values(), 1)
    raw = env.get(SETTING, "").strip()
    if not raw:
        return counts
    for part in raw.split(","):
        name, sep, number = part.strip().partition("=")
        if not sep or name not in SCALABLE:
            raise WorkerCountError(f"{SETTING}: {part.strip()!r} is not <service>=<count> "
                                   f"with a service among {', '.join(SCALABLE)}")
        try:
            count = int(number)
        except ValueError:
            raise WorkerCountError(f"{SETTING}: {name}={number!r} is not a whole number"
                                   ) from None
        if not 1 <= count <= MAX_WORKERS:
            raise WorkerCountError(f"{SETTING}: {name}={count} is outside 1..{MAX_WORKERS}")
        counts[SCALABLE[name]] = count
    return counts


def instances(service: str, count: int) -> list[Instance]:
    return [Instance(service, n) for n in range(1, count + 1)]


def extra_instance_of(name: str) -> Instance | None:
    """The instance a name like ``normalizer-2`` stands for (None for a first instance)."""
    base, _, number = name.rpartition("-")
    if base in SCALABLE.values() and number.isdigit() and int(number) > 1:
        return Instance(base, int(number))
    return None
