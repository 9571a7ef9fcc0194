"""A small HTTP client for the benchmark: one logged-in browser session per simulated user
(cookies, CSRF token, login through the real login form), and a closed-loop load runner.

Only the loopback interface is ever contacted.
"""

import http.client
import re
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass, field

HOST = "127.0.0.1"
_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Session:
    """One user's browser: keeps its cookies, reconnects when the server closes."""

    def __init__(self, port: int, timeout: float = 120):
        self.port = port
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection(HOST, port, timeout=timeout)

    def request(self, method: str, path: str, body: bytes | None = None, headers=None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        except (ConnectionError, http.client.HTTPException):
            # A worker closed a kept-alive connection before this request: not a server
            # error, a fresh connection is what a browser would use.
            self.conn.close()
            self.conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        content = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if value in ("", '""'):
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value
        if response.will_close:
            self.conn.close()
        return response.status, response.headers, content

    def get(self, path: str):
        return self.request("GET", path)

    def post(self, path: str, fields: dict):
        data = {"csrfmiddlewaretoken": self.cookies.get("csrftoken", ""), **fields}
        body = urllib.parse.urlencode(data, doseq=True).encode()
        return self.request(
            "POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"}
        )

    def post_multipart(self, path: str, fields: dict, files: dict[str, tuple[str, bytes, str]]):
        boundary = "bench" + secrets.token_hex(12)
        parts = []
        data = {"csrfmiddlewaretoken": self.cookies.get("csrftoken", ""), **fields}
        for name, value in data.items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                f"{value}\r\n".encode()
            )
        for name, (filename, content, content_type) in files.items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
                + content
                + b"\r\n"
            )
        parts.append(f"--{boundary}--\r\n".encode())
        return self.request(
            "POST",
            path,
            b"".join(parts),
            {"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )

    def login(self, username: str, password: str) -> None:
        status, _, content = self.get("/accounts/login/")
        match = _CSRF_INPUT.search(content.decode())
        if status != 200 or not match:
            raise RuntimeError(f"login page: HTTP {status}, no CSRF token")
        status, headers, _ = self.request(
            "POST",
            "/accounts/login/",
            urllib.parse.urlencode(
                {
                    "username": username,
                    "password": password,
                    "csrfmiddlewaretoken": match.group(1),
                    "next": "",
                }
            ).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        if status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"login of {username} failed: HTTP {status}")

    def close(self) -> None:
        self.conn.close()


@dataclass
class Measurement:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    seconds: float = 0.0
    clients: int = 0

    @property
    def requests(self) -> int:
        return len(self.latencies_ms)


def run_closed_loop(
    sessions: list[Session],
    action,
    *,
    warmup: int,
    max_requests: int,
    max_seconds: float,
) -> Measurement:
    """Every session runs `action(session, client_index)` back to back: `warmup` times
    unrecorded, then until `max_requests` (all clients together) or `max_seconds` have
    passed. `action` returns None when the response was the expected one, else a short
    description of what went wrong, and raises StopIteration when it has no target left."""
    result = Measurement(clients=len(sessions))
    lock = threading.Lock()
    barrier = threading.Barrier(len(sessions))
    per_client = max(1, max_requests // len(sessions))
    window = {}

    def client(index: int, session: Session) -> None:
        try:
            for _ in range(warmup):
                action(session, index)
        except StopIteration:
            pass
        except Exception as exc:  # noqa: BLE001 - a failed warm-up shows in the measurement
            with lock:
                result.error_samples.append(f"warm-up: {exc!r}"[:200])
        barrier.wait()
        with lock:
            window.setdefault("start", time.perf_counter())
        deadline = window["start"] + max_seconds
        latencies, errors, samples = [], 0, []
        for _ in range(per_client):
            if time.perf_counter() >= deadline:
                break
            began = time.perf_counter()
            try:
                problem = action(session, index)
            except StopIteration:
                break
            except Exception as exc:  # noqa: BLE001 - counted as an error, run goes on
                problem = repr(exc)
            latencies.append((time.perf_counter() - began) * 1000)
            if problem:
                errors += 1
                if len(samples) < 3:
                    samples.append(problem[:200])
        with lock:
            result.latencies_ms.extend(latencies)
            result.errors += errors
            result.error_samples.extend(samples)
            window["end"] = max(window.get("end", 0), time.perf_counter())

    threads = [
        threading.Thread(target=client, args=(i, s), daemon=True) for i, s in enumerate(sessions)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max_seconds + 600)
    result.seconds = window.get("end", 0) - window.get("start", 0)
    return result


def percentile(sorted_values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (q in 0..100)."""
    if not sorted_values:
        return float("nan")
    position = (len(sorted_values) - 1) * q / 100
    lower = int(position)
    upper = min(lower + 1, len(sorted_values) - 1)
    return sorted_values[lower] + (sorted_values[upper] - sorted_values[lower]) * (position - lower)
