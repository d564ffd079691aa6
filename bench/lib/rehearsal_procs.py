"""The processes of a rehearsed deployment, started the way docs/deployment.md starts
them: `flask` commands, gunicorn serving wsgi:app, `flask jobs run`; and a local mail
server that counts what the outbox delivers.

Every process is started here and stopped here by its own pid; its output goes to a log
file under the run's directory, which the checks read afterwards.
"""

from __future__ import annotations

import os
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def flask_command(args: list[str], env: dict[str, str], *, timeout: float = 900) -> str:
    """Run `flask --app wsgi …` to completion; its output (raises on a non-zero exit)."""
    done = subprocess.run([*FLASK, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} exited with {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


@dataclass
class Service:
    """A long-running process (a gunicorn or a scheduler) with its log file."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    stop_signal: int = signal.SIGTERM
    proc: subprocess.Popen | None = None
    _log: object = field(default=None, repr=False)

    def start(self) -> Service:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "wb")  # noqa: SIM115  (closed in stop())
        self.proc = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT)
        return self

    @property
    def pid(self) -> int:
        return self.proc.pid if self.proc else 0

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 40) -> int | None:
        """Ask it to stop (gunicorn: graceful shutdown; the scheduler: Ctrl-C), kill it if
        it does not; the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(self.stop_signal)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._log:
            self._log.close()
            self._log = None
        return self.proc.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def gunicorn(name: str, port: int, env: dict[str, str], run_dir: Path, *, workers: int = 2) -> Service:
    """gunicorn as docs/deployment.md runs it (sync workers, bound to the loopback)."""
    argv = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"{HOST}:{port}",
            "--timeout", "60", "--graceful-timeout", "30", "--access-logfile", "-",
            "--access-logformat", '%(s)s %(m)s %(U)s %(M)sms', "wsgi:app"]
    return Service(name, argv, env, run_dir / f"{name}.log")


def scheduler(name: str, env: dict[str, str], run_dir: Path) -> Service:
    """`flask jobs run`; Ctrl-C (SIGINT) is how it is stopped by hand."""
    return Service(name, [*FLASK, "jobs", "run"], env, run_dir / f"{name}.log", stop_signal=signal.SIGINT)


def wait_for_line(service: Service, needle: str, timeout: float = 180) -> None:
    """Until the process has written `needle` to its log (a busy machine can take half a
    minute to import the application)."""
    deadline = time.monotonic() + timeout
    while needle not in service.log():
        if not service.running():
            raise RuntimeError(f"{service.name} exited with {service.proc.returncode}; see {service.log_path}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{service.name} did not say {needle!r} within {timeout:.0f} s; see {service.log_path}")
        time.sleep(0.3)


def wait_until_serving(service: Service, port: int, timeout: float = 90) -> None:
    import http.client

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not service.running():
            raise RuntimeError(f"{service.name} exited with {service.proc.returncode}; see {service.log_path}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=5)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{service.name} did not answer within {timeout:.0f} s; see {service.log_path}")


# A mail server that keeps what it is given ------------------------------------------------


class _SmtpSession(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: greet, accept every command, keep each DATA block."""

    def handle(self) -> None:
        self.wfile.write(b"220 rehearsal ESMTP\r\n")
        data: list[bytes] | None = None
        while line := self.rfile.readline():
            if data is not None:
                if line == b".\r\n":
                    self.server.received(b"".join(data))
                    data = None
                    self.wfile.write(b"250 queued\r\n")
                else:
                    data.append(line)
                continue
            verb = line[:4].upper()
            if verb == b"EHLO":
                self.wfile.write(b"250-rehearsal\r\n250 8BITMIME\r\n")
            elif verb == b"DATA":
                data = []
                self.wfile.write(b"354 go on\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


class MailSink(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__((HOST, 0), _SmtpSession)
        self.messages: list[bytes] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, name="mail-sink", daemon=True)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def received(self, message: bytes) -> None:
        with self._lock:
            self.messages.append(message)

    def __enter__(self) -> MailSink:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()


def base_env(database_url: str, secret_key: str) -> dict[str, str]:
    """What every process of the deployment shares (docs/deployment.md, "Environment")."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "DB_"))}
    env.update({"DATABASE_URL": database_url, "SECRET_KEY": secret_key, "ORDERDECK_ENV": "production",
                "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"})
    return env
