"""A small closed-loop HTTP load generator on asyncio, for loopback only.

Each of `concurrency` clients sends one request, waits for the whole answer, records
its latency and sends the next, until the time is up or the work runs out. A new
connection per request, as gunicorn's sync workers close them anyway.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field


@dataclass
class Reply:
    status: int
    headers: dict[str, list[str]]
    body: bytes

    def header(self, name: str) -> str:
        return (self.headers.get(name.lower()) or [""])[-1]

    def cookie(self) -> str | None:
        for value in self.headers.get("set-cookie", []):
            if value.startswith("session="):
                return value.split(";", 1)[0]
        return None


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


async def send(host: str, port: int, request: Request, timeout: float = 30) -> Reply:
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    head = [f"{request.method} {request.path} HTTP/1.1", f"Host: {host}:{port}",
            "Connection: close", "User-Agent: surveys-bench"]
    head += [f"{k}: {v}" for k, v in request.headers.items()]
    if request.body or request.method == "POST":
        head.append(f"Content-Length: {len(request.body)}")
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + request.body)
    raw = await asyncio.wait_for(reader.read(), timeout)
    writer.close()
    head_bytes, _, body = raw.partition(b"\r\n\r\n")
    lines = head_bytes.decode("latin-1").split("\r\n")
    headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return Reply(int(lines[0].split()[1]), headers, body)


@dataclass
class LoadResult:
    requests: int
    seconds: float
    latencies_ms: list[float]
    failures: int

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else float("nan")

    @property
    def p99(self) -> float:
        return self.percentile(99)


def run_load(host: str, port: int, work: Iterator[Request], *, concurrency: int,
             seconds: float, ok: Callable[[Reply], bool]) -> LoadResult:
    return asyncio.run(_run(host, port, work, concurrency, seconds, ok))


async def _run(host, port, work, concurrency, seconds, ok) -> LoadResult:
    latencies: list[float] = []
    failures = 0
    deadline = time.perf_counter() + seconds

    async def client():
        nonlocal failures
        while time.perf_counter() < deadline:
            request = next(work, None)
            if request is None:
                return
            start = time.perf_counter()
            try:
                reply = await send(host, port, request)
            except OSError:  # TimeoutError included
                failures += 1
                continue
            if ok(reply):
                latencies.append((time.perf_counter() - start) * 1000)
            else:
                failures += 1

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return LoadResult(len(latencies), time.perf_counter() - start, latencies, failures)


def gather_all(host: str, port: int, requests: list[Request], concurrency: int) -> list[Reply]:
    """Send every request (at most `concurrency` at once) and return the replies in order."""

    async def main():
        gate = asyncio.Semaphore(concurrency)

        async def one(request):
            async with gate:
                return await send(host, port, request)

        return await asyncio.gather(*(one(r) for r in requests))

    return asyncio.run(main())
