"""A keep-alive HTTP/1.1 load generator for bench/gateway.py, run as its own process.

Each connection sends one pre-built request, waits for the whole response, and sends the
next (closed loop), so latency is per request and the server is never pipelined. Requests
are built (and signed) by the caller; this process only writes bytes and parses the
status line and Content-Length, which keeps it far cheaper than the server it drives.

Usage: python -m bench.gateway_load PORT REQUESTS_FILE CONNECTIONS WARMUP DURATION
where REQUESTS_FILE is a pickled list of raw request bytes. Prints one JSON object.
"""

from __future__ import annotations

import asyncio
import json
import pickle
import resource
import sys
import time


class _Connection(asyncio.Protocol):
    def __init__(self, run: _Run, offset: int) -> None:
        self.run = run
        self.index = offset
        self.buffer = b""
        self.sent_at = 0.0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.send()

    def send(self) -> None:
        now = time.perf_counter()
        if now >= self.run.stop_at:
            self.transport.close()
            return
        requests = self.run.requests
        self.sent_at = now
        self.transport.write(requests[self.index % len(requests)])
        self.index += 1

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = self.buffer[:end].lower()
        at = head.find(b"content-length:")
        length = 0
        if at >= 0:
            line_end = head.find(b"\r\n", at)
            length = int(head[at + 15:line_end if line_end >= 0 else len(head)])
        total = end + 4 + length
        if len(self.buffer) < total:
            return
        self.run.record(int(self.buffer[9:12]), time.perf_counter() - self.sent_at)
        self.buffer = self.buffer[total:]
        self.send()

    def connection_lost(self, exc) -> None:
        self.run.closed += 1
        if self.run.closed == self.run.connections and not self.run.done.done():
            self.run.done.set_result(None)


class _Run:
    def __init__(self, requests, connections, warmup, duration) -> None:
        self.requests = requests
        self.connections = connections
        now = time.perf_counter()
        self.measure_from = now + warmup
        self.stop_at = now + warmup + duration
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}
        self.total = 0  # warmup included: the server's CPU is read over the whole run
        self.closed = 0
        self.done = asyncio.get_running_loop().create_future()

    def record(self, status: int, latency: float) -> None:
        self.total += 1
        if time.perf_counter() >= self.measure_from:
            self.latencies.append(latency)
            self.statuses[status] = self.statuses.get(status, 0) + 1


async def drive(port: int, requests: list[bytes], connections: int, warmup: float,
                duration: float) -> dict:
    loop = asyncio.get_running_loop()
    run = _Run(requests, connections, warmup, duration)
    step = max(1, len(requests) // connections)
    for i in range(connections):
        await loop.create_connection(lambda i=i: _Connection(run, i * step), "127.0.0.1", port)
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    await asyncio.sleep(warmup + duration)
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    await asyncio.wait_for(run.done, 30)
    latencies = sorted(run.latencies)
    count = len(latencies)
    cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    return {
        "requests": count,
        "total_requests": run.total,
        "rps": count / duration,
        "p50_ms": latencies[count // 2] * 1000 if count else None,
        "p99_ms": latencies[min(count - 1, int(count * 0.99))] * 1000 if count else None,
        "statuses": run.statuses,
        "generator_cpu": cpu / (warmup + duration),
    }


def main() -> None:
    import uvloop

    port, path, connections, warmup, duration = sys.argv[1:6]
    with open(path, "rb") as handle:
        requests = pickle.load(handle)
    result = uvloop.run(drive(int(port), requests, int(connections), float(warmup),
                              float(duration)))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
