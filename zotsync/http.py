"""The one HTTP stack: an httpx client factory and one retry policy for every remote call.

Why one module: the Zotero API, the Zotero web writes and Semantic Scholar all rate-limit the
same way (``429``/``503`` with ``Retry-After`` as seconds or an HTTP date, Zotero's ``Backoff``),
and three hand-written loops had drifted apart (one read only digits, one ignored dates, one
ignored ``Backoff``). Here:

* :func:`make_client` builds every :class:`httpx.Client` (timeout, user agent, redirects,
  proxies from the environment except for loopback servers such as the Zotero desktop);
* :class:`RetryPolicy` says which answers are retried, how often, and how long to wait:
  ``Retry-After`` when sent, else exponential backoff from ``base`` seconds (1 s) up to ``cap``;
* :class:`Pacer` says when the next request may start: after a ``Backoff`` or retry pause
  (shared by all threads using one client) and at least ``min_interval`` after the last start;
* :func:`send` is the loop. With a ``deadline`` (a time on the pacer's clock) no request
  starts, no pause is slept and no read waits past it: :class:`BudgetExhausted` instead.

Why not tenacity or httpx's transport retries: httpx retries only failed connections, never a
429; with tenacity the wait (read from the answer's headers), the stop (a budget on an injected
clock), the shared ``Backoff`` pause and the per-caller error mapping would all be callbacks of
ours, leaving the library only the ``for`` loop. Clock and sleep are injectable, so tests never
wait for real.
"""

from __future__ import annotations

import email.utils
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import httpx

from zotsync import __version__

__all__ = [
    "DEFAULT_TIMEOUT",
    "USER_AGENT",
    "BudgetExhausted",
    "Pacer",
    "RetryPolicy",
    "backoff_header",
    "make_client",
    "retry_after",
    "send",
]

USER_AGENT = f"zotsync/{__version__}"
DEFAULT_TIMEOUT = 30.0


def make_client(
    *,
    headers: dict[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    loopback: bool = False,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """A client with zotsync's user agent; ``loopback`` servers are never reached via a proxy."""
    return httpx.Client(
        headers={"User-Agent": USER_AGENT, **(headers or {})},
        timeout=timeout,
        follow_redirects=True,
        trust_env=not loopback,
        transport=transport,
    )


def retry_after(value: str | None, *, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now())


def backoff_header(headers: httpx.Headers) -> float:
    """Zotero's ``Backoff: N``: seconds before the next request (0 when absent or bad)."""
    return retry_after(headers.get("Backoff")) or 0.0


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Which answers are retried and after how long; one instance per remote service."""

    statuses: Collection[int] = frozenset({429, 503})
    max_retries: int = 5
    base: float = 1.0
    cap: float = 60.0
    #: retry a failed connection too (only for requests that are safe to repeat)
    transport_errors: bool = False

    def backoff(self, attempt: int) -> float:
        """``base`` · 2^attempt seconds, at most ``cap``."""
        return float(min(self.base * (2**attempt), self.cap))

    def delay(self, response: httpx.Response, attempt: int) -> float | None:
        """Seconds before retrying ``response``, or None when it is final."""
        if response.status_code not in self.statuses or attempt >= self.max_retries:
            return None
        waited = retry_after(response.headers.get("Retry-After"))
        return self.backoff(attempt) if waited is None else waited


class BudgetExhausted(Exception):
    """The next request or pause would pass the deadline; ``response`` is the last answer."""

    def __init__(self, wait: float, response: httpx.Response | None = None) -> None:
        super().__init__(f"waiting {wait:.1f}s would pass the time budget")
        self.wait = wait
        self.response = response


class Pacer:
    """When the next request may start; thread-safe, so one pause holds back every thread."""

    def __init__(
        self,
        *,
        min_interval: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.min_interval = min_interval
        self.clock = clock
        self.sleep = sleep
        #: requests started so far (retries included)
        self.started = 0
        self._lock = threading.Lock()
        self._not_before = 0.0
        self._last_start: float | None = None

    def pause(self, seconds: float) -> None:
        """No request starts within ``seconds`` from now (a ``Backoff`` header)."""
        if seconds > 0:
            with self._lock:
                self._not_before = max(self._not_before, self.clock() + seconds)

    def hold(self, seconds: float, deadline: float | None, response: httpx.Response) -> None:
        """Sleep ``seconds`` before a retry, holding back the other threads meanwhile."""
        if deadline is not None and self.clock() + seconds > deadline:
            raise BudgetExhausted(seconds, response)
        self.pause(seconds)
        with self._lock:
            target = self._not_before
        self.sleep(seconds)
        self._served(target)

    def _served(self, target: float) -> None:
        with self._lock:  # later requests need not wait for this pause again
            if self._not_before == target:
                self._not_before = 0.0

    def start(self, deadline: float | None = None) -> None:
        """Wait until a request may start, then count it as started."""
        with self._lock:
            target = self._not_before
            if self._last_start is not None:
                target = max(target, self._last_start + self.min_interval)
        now = self.clock()
        remaining = target - now
        if deadline is not None and (now >= deadline or now + max(remaining, 0) > deadline):
            raise BudgetExhausted(max(remaining, 0.0))
        if remaining > 0:
            self.sleep(remaining)
            self._served(target)
        with self._lock:
            self._last_start = self.clock()
            self.started += 1


def send(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    policy: RetryPolicy,
    pacer: Pacer,
    deadline: float | None = None,
    timeout: float | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """One request, retried as ``policy`` says; the final answer is returned whatever its status.

    A failed connection is raised (``httpx.TransportError``) unless the policy retries it;
    :class:`BudgetExhausted` when the ``deadline`` comes first.
    """
    attempt = 0
    while True:
        pacer.start(deadline)
        if timeout is not None:
            left = timeout if deadline is None else min(timeout, deadline - pacer.clock())
            kwargs["timeout"] = left
        try:
            response = client.request(method, url, **kwargs)
        except httpx.TransportError:
            if not policy.transport_errors or attempt >= policy.max_retries:
                raise
            delay = policy.backoff(attempt)
            if deadline is not None and pacer.clock() + delay > deadline:
                raise BudgetExhausted(delay) from None
            pacer.sleep(delay)  # a lost connection: nothing to share with other threads
        else:
            pacer.pause(backoff_header(response.headers))
            retry = policy.delay(response, attempt)
            if retry is None:
                return response
            pacer.hold(retry, deadline, response)
        attempt += 1
