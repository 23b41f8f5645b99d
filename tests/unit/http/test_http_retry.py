"""The one retry policy (zotsync.http) against a loopback server that answers from a script.

Every test records the pauses instead of sleeping, so nothing waits for real; the server
counts the requests, so "retried" and "not retried" are numbers.
"""

from __future__ import annotations

import email.utils
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from zotsync.http import (
    USER_AGENT,
    BudgetExhausted,
    Pacer,
    RetryPolicy,
    make_client,
    retry_after,
    send,
)

Answer = tuple[int, dict[str, str]]


class ScriptedServer:
    """Answers each request with the next scripted (status, headers); 200 once it runs out."""

    def __init__(self) -> None:
        self.script: list[Answer] = []
        self.seen: list[dict[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.seen.append({k.lower(): v for k, v in self.headers.items()})
                status, headers = server.script.pop(0) if server.script else (200, {})
                body = b'{"ok": true}'
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/thing"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as running:
        yield running


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with make_client(loopback=True, timeout=5) as http:
        yield http


def get(client: httpx.Client, server: ScriptedServer, pacer: Pacer, **kw: object) -> httpx.Response:
    policy = kw.pop("policy", RetryPolicy())
    return send(client, "GET", server.url, policy=policy, pacer=pacer, **kw)  # type: ignore[arg-type]


def test_429_waits_the_retry_after_seconds(client: httpx.Client, server: ScriptedServer) -> None:
    server.script = [(429, {"Retry-After": "7"}), (429, {"Retry-After": "2.5"})]
    sleeps: list[float] = []
    response = get(client, server, Pacer(sleep=sleeps.append))
    assert response.status_code == 200
    assert sleeps == [7.0, 2.5] and len(server.seen) == 3


def test_retry_after_as_an_http_date_waits_until_then(
    client: httpx.Client, server: ScriptedServer
) -> None:
    earlier = email.utils.formatdate(time.time() - 60, usegmt=True)
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    server.script = [(503, {"Retry-After": later})]
    sleeps: list[float] = []
    assert get(client, server, Pacer(sleep=sleeps.append)).status_code == 200
    assert len(sleeps) == 1 and 28 <= sleeps[0] <= 30
    assert retry_after(earlier) == 0.0  # a date in the past: no wait
    assert retry_after("soon") is None and retry_after("") is None


def test_503_without_retry_after_backs_off_exponentially_from_one_second(
    client: httpx.Client, server: ScriptedServer
) -> None:
    server.script = [(503, {})] * 3
    sleeps: list[float] = []
    assert get(client, server, Pacer(sleep=sleeps.append)).status_code == 200
    assert sleeps == [1.0, 2.0, 4.0]


def test_backoff_header_holds_back_the_next_request(
    client: httpx.Client, server: ScriptedServer
) -> None:
    server.script = [(200, {"Backoff": "5"})]
    sleeps: list[float] = []
    pacer = Pacer(sleep=sleeps.append)
    assert get(client, server, pacer).status_code == 200
    assert sleeps == []  # the answer itself is fine: nothing retried
    get(client, server, pacer)
    assert len(sleeps) == 1 and 4.5 < sleeps[0] <= 5.0
    get(client, server, pacer)
    assert len(sleeps) == 1  # served once, not again


def test_a_pause_past_the_budget_is_not_slept(client: httpx.Client, server: ScriptedServer) -> None:
    server.script = [(429, {"Retry-After": "60"})]
    sleeps: list[float] = []
    with pytest.raises(BudgetExhausted) as err:
        get(client, server, Pacer(sleep=sleeps.append), deadline=time.monotonic() + 5)
    assert sleeps == [] and len(server.seen) == 1
    assert err.value.response is not None and err.value.response.status_code == 429


def test_a_spent_budget_sends_nothing(client: httpx.Client, server: ScriptedServer) -> None:
    with pytest.raises(BudgetExhausted) as err:
        get(client, server, Pacer(sleep=[].append), deadline=time.monotonic() - 1)
    assert server.seen == [] and err.value.response is None


def test_retries_run_out_and_the_last_answer_is_returned(
    client: httpx.Client, server: ScriptedServer
) -> None:
    server.script = [(429, {"Retry-After": "0"})] * 10
    sleeps: list[float] = []
    response = get(client, server, Pacer(sleep=sleeps.append), policy=RetryPolicy(max_retries=2))
    assert response.status_code == 429 and len(server.seen) == 3 and sleeps == [0.0, 0.0]


def test_other_statuses_are_final(client: httpx.Client, server: ScriptedServer) -> None:
    server.script = [(500, {"Retry-After": "1"})]
    sleeps: list[float] = []
    assert get(client, server, Pacer(sleep=sleeps.append)).status_code == 500
    assert sleeps == [] and len(server.seen) == 1


def test_the_minimum_interval_spaces_requests(client: httpx.Client, server: ScriptedServer) -> None:
    now = [100.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    pacer = Pacer(min_interval=1.0, clock=lambda: now[0], sleep=sleep)
    get(client, server, pacer)
    now[0] += 0.25
    get(client, server, pacer)
    assert sleeps == [0.75] and pacer.started == 2


def test_a_lost_connection_is_retried_only_when_the_policy_says_so(client: httpx.Client) -> None:
    with ScriptedServer() as gone:
        url = gone.url
    sleeps: list[float] = []
    pacer = Pacer(sleep=sleeps.append)
    with pytest.raises(httpx.TransportError):
        send(client, "GET", url, policy=RetryPolicy(), pacer=pacer)
    assert sleeps == []
    with pytest.raises(httpx.TransportError):
        send(client, "GET", url, policy=RetryPolicy(max_retries=2, transport_errors=True),
             pacer=pacer)  # fmt: skip
    assert sleeps == [1.0, 2.0] and pacer.started == 4


def test_the_client_sends_zotsyncs_user_agent(client: httpx.Client, server: ScriptedServer) -> None:
    get(client, server, Pacer())
    assert server.seen[0]["user-agent"] == USER_AGENT
    assert make_client().trust_env and not client.trust_env  # loopback: no proxy
