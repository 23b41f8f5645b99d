"""A small Semantic Scholar Graph API client for reference lists.

Only two endpoints are used:

* ``POST /paper/batch?fields=…`` with ``{"ids": [...]}`` (at most 500 ids): the answer keeps the
  input order and has ``null`` for ids S2 does not know;
* ``GET /paper/{id}/references?fields=…&offset=&limit=`` (limit at most 1000): pages of
  ``{"citedPaper": {...}}`` with ``next`` on every page but the last, used when a batch
  answer's ``references`` is shorter than its ``referenceCount``.

Politeness and failure handling, because S2 is strict (1 request/s with a key, a crowded shared
pool without one) and because a sync must never fail for it:

* requests start at least ``min_interval`` seconds apart (default 1 s);
* 429 and 5xx are retried with exponential backoff (``backoff_base`` · 2^attempt, at most
  ``max_backoff``), honouring ``Retry-After`` (seconds or an HTTP date) when sent;
* every call takes an absolute ``deadline`` (``time.monotonic`` seconds): no request starts, no
  backoff sleeps and no read waits past it;
* failures surface as :class:`S2Error` with a ``reason`` the resolver records:
  ``rate-limited``, ``unreachable``, ``timeout``, ``not-found`` (404, or 400 for a bad id).

The API key comes from ``S2_API_KEY`` and is sent as ``x-api-key``; the base URL from
``ZOTSYNC_S2_URL``. Clock and sleep are injectable so tests never wait for real.
"""

from __future__ import annotations

import email.utils
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported when a client is made: a sync without references never needs it
    import httpx

DEFAULT_URL = "https://api.semanticscholar.org/graph/v1"
BATCH_LIMIT = 500
PAGE_LIMIT = 1000
PAPER_FIELDS = "paperId,externalIds,title,year"
BATCH_FIELDS = (
    "paperId,externalIds,title,year,referenceCount,"
    "references.paperId,references.externalIds,references.title,references.year"
)

Json = dict[str, Any]


class S2Error(Exception):
    """A request that could not be completed; ``reason`` is one of the resolver's reasons."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class S2Client:
    """Synchronous client; one per run. Counts its HTTP requests in ``requests``."""

    def __init__(
        self,
        base_url: str | None = None,
        *,
        api_key: str | None = None,
        min_interval: float = 1.0,
        timeout: float = 10.0,
        max_retries: int = 5,
        backoff_base: float = 1.0,
        max_backoff: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = (base_url or os.environ.get("ZOTSYNC_S2_URL") or DEFAULT_URL).rstrip("/")
        key = api_key if api_key is not None else os.environ.get("S2_API_KEY", "")
        headers = {"user-agent": "zotsync (reference lists)"}
        if key:
            headers["x-api-key"] = key
        self.min_interval = min_interval
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.max_backoff = max_backoff
        self.clock = clock
        self.sleep = sleep
        self.requests = 0
        self._last_start: float | None = None
        import httpx

        self._http = httpx.Client(headers=headers, transport=transport, follow_redirects=True)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> S2Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- endpoints -------------------------------------------------------------------------

    def batch(self, ids: list[str], *, deadline: float | None = None) -> list[Json | None]:
        """Look up to 500 ids at once; the result is aligned with ``ids`` (None = unknown)."""
        if len(ids) > BATCH_LIMIT:
            raise ValueError(f"at most {BATCH_LIMIT} ids per batch, got {len(ids)}")
        if not ids:
            return []
        data = self._request(
            "POST",
            "/paper/batch",
            params={"fields": BATCH_FIELDS},
            json={"ids": ids},
            deadline=deadline,
        )
        if not isinstance(data, list) or len(data) != len(ids):
            raise S2Error("unreachable", "Semantic Scholar sent a batch answer of the wrong shape")
        return [p if isinstance(p, dict) else None for p in data]

    def references_page(
        self,
        paper_id: str,
        *,
        offset: int = 0,
        limit: int = PAGE_LIMIT,
        deadline: float | None = None,
    ) -> tuple[list[Json], int | None]:
        """One page of ``/references``: the cited papers and the next offset (None at the end)."""
        data = self._request(
            "GET",
            f"/paper/{paper_id}/references",
            params={"fields": PAPER_FIELDS, "offset": str(offset), "limit": str(limit)},
            deadline=deadline,
        )
        if not isinstance(data, dict):
            raise S2Error(
                "unreachable", "Semantic Scholar sent a references page of the wrong shape"
            )
        cited = []
        for row in data.get("data") or []:
            paper = row.get("citedPaper") if isinstance(row, dict) else None
            if isinstance(paper, dict):
                cited.append(paper)
        nxt = data.get("next")
        return cited, nxt if isinstance(nxt, int) and nxt > offset else None

    def all_references(self, paper_id: str, *, deadline: float | None = None) -> list[Json]:
        """Every cited paper of ``paper_id``, following ``next`` until the last page."""
        out: list[Json] = []
        offset: int | None = 0
        while offset is not None:
            page, offset = self.references_page(paper_id, offset=offset, deadline=deadline)
            out.extend(page)
        return out

    # -- transport -------------------------------------------------------------------------

    def _remaining(self, deadline: float | None) -> float:
        return float("inf") if deadline is None else deadline - self.clock()

    def _wait(self, seconds: float, deadline: float | None, reason: str) -> None:
        if seconds <= 0:
            return
        if seconds > self._remaining(deadline):
            raise S2Error(reason, f"waiting {seconds:.1f}s would pass the time budget")
        self.sleep(seconds)

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str],
        json: object = None,
        deadline: float | None,
    ) -> Any:
        attempt = 0
        while True:
            if self._last_start is not None:
                self._wait(self._last_start + self.min_interval - self.clock(), deadline, "timeout")
            remaining = self._remaining(deadline)
            if remaining <= 0:
                raise S2Error("timeout", "the reference time budget is spent")
            self._last_start = self.clock()
            self.requests += 1
            import httpx  # already loaded by __init__; a local name for the except clauses

            try:
                response = self._http.request(
                    method,
                    self.base_url + path,
                    params=params,
                    json=json,
                    timeout=min(self.timeout, remaining),
                )
            except httpx.TimeoutException as exc:
                raise S2Error(
                    "timeout", f"Semantic Scholar did not answer in time ({exc})"
                ) from exc
            except httpx.HTTPError as exc:
                raise S2Error("unreachable", f"cannot reach Semantic Scholar: {exc}") from exc
            status = response.status_code
            if status == 200:
                try:
                    return response.json()
                except ValueError as exc:
                    raise S2Error("unreachable", "Semantic Scholar sent invalid JSON") from exc
            if status in (404, 400):
                raise S2Error("not-found", _error_text(response))
            if status == 403:
                raise S2Error("unreachable", "Semantic Scholar refused the API key (S2_API_KEY)")
            if status == 429 or status >= 500:
                reason = "rate-limited" if status == 429 else "unreachable"
                if attempt >= self.max_retries:
                    raise S2Error(reason, f"HTTP {status} after {attempt + 1} attempts")
                delay = _retry_after(response.headers.get("retry-after"))
                if delay is None:
                    delay = min(self.backoff_base * (2**attempt), self.max_backoff)
                self._wait(delay, deadline, reason)
                attempt += 1
                continue
            raise S2Error("unreachable", f"HTTP {status}: {_error_text(response)}")


def _retry_after(value: str | None) -> float | None:
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
    return max(0.0, when.timestamp() - time.time())


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:200]
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return str(body["error"])
    return str(body)[:200]
