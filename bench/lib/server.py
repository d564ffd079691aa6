"""A real server and real clients: gunicorn (2 workers) on a free local port, driven by a
thread pool of http.client connections kept alive between requests."""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

from bench.lib.measure import percentile

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"

# method, path, body (bytes or None), extra headers
Request = tuple[str, str, bytes | None, dict]


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Gunicorn:
    """`gunicorn -w 2` serving `app_spec` with DATABASE_URL set; stopped (by its pid) on exit."""

    def __init__(self, app_spec: str, database_url: str, *, workers: int = 2, log_path: Path | None = None) -> None:
        self.app_spec, self.database_url, self.workers = app_spec, database_url, workers
        self.log_path = log_path or ROOT / "bench" / "out" / "gunicorn.log"
        self.port = 0
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Gunicorn:
        self.port = free_port()
        env = {**os.environ, "DATABASE_URL": self.database_url, "PYTHONPATH": str(ROOT)}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-w",
                str(self.workers),
                "-b",
                f"{HOST}:{self.port}",
                "--log-level",
                "warning",
                self.app_spec,
            ],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=self._log,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}; see {self.log_path}")
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=5)
                conn.request("GET", "/login")
                conn.getresponse().read()
                conn.close()
                return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within 60 s; see {self.log_path}")

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


@dataclass
class LoadResult:
    clients: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def per_second(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies) * 1000 if self.latencies else float("nan")

    @property
    def p95_ms(self) -> float:
        return percentile(self.latencies, 95) * 1000 if self.latencies else float("nan")


def drive(
    port: int, make_request: Callable[[int], Request], *, clients: int, total: int, budget_s: float = 30.0
) -> LoadResult:
    """`clients` threads, each with one keep-alive connection, send requests 0…total-1 (as
    many as the budget allows); a 2xx/3xx answer counts, anything else is an error."""
    lock = threading.Lock()
    counter = iter(range(total))
    result = LoadResult(clients=clients, seconds=0.0)
    deadline = time.perf_counter() + budget_s

    def worker() -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=60)
        latencies, errors, first_error = [], 0, ""
        while time.perf_counter() < deadline:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            method, path, body, headers = make_request(i)
            t0 = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
            except (http.client.HTTPException, OSError) as exc:  # server closed a kept-alive socket
                conn.close()
                errors += 1
                first_error = first_error or repr(exc)
                continue
            elapsed = time.perf_counter() - t0
            if 200 <= response.status < 400:
                latencies.append(elapsed)
            else:
                errors += 1
                first_error = first_error or f"{response.status} {data[:200]!r}"
            if response.will_close:
                conn.close()  # sync workers close after each answer; the next request reconnects
        conn.close()
        with lock:
            result.latencies.extend(latencies)
            result.errors += errors
            result.first_error = result.first_error or first_error

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        for future in [pool.submit(worker) for _ in range(clients)]:
            future.result()
    result.seconds = time.perf_counter() - started
    return result


def login_cookie(port: int, email: str, password: str) -> str:
    """Sign in through the login form (CSRF token and all); returns the Cookie header to send."""
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    conn.request("GET", "/login")
    response = conn.getresponse()
    page = response.read().decode()
    jar = SimpleCookie()
    for header in response.headers.get_all("Set-Cookie") or []:
        jar.load(header)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    cookie = "; ".join(f"{k}={m.value}" for k, m in jar.items())
    body = urllib.parse.urlencode({"email": email, "password": password, "csrf_token": token})
    conn.request(
        "POST", "/login", body=body, headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    )
    response = conn.getresponse()
    response.read()
    if response.status != 302:
        raise RuntimeError(f"sign-in over HTTP answered {response.status}")
    for header in response.headers.get_all("Set-Cookie") or []:
        jar.load(header)
    conn.close()
    return "; ".join(f"{k}={m.value}" for k, m in jar.items())


def json_request(method: str, path: str, payload: dict | None, token: str) -> Request:
    body = json.dumps(payload).encode() if payload is not None else None
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    return method, path, body, headers
