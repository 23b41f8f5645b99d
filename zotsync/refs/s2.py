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
  ``max_backoff``), honouring ``Retry-After`` (seconds or an HTTP date) when sent — the one
  retry policy of :mod:`zotsync.http`;
* every call takes an absolute ``deadline`` (``time.monotonic`` seconds): no request starts, no
  backoff sleeps and no read waits past it;
* failures surface as :class:`S2Error` with a ``reason`` the resolver records:
  ``rate-limited``, ``unreachable``, ``timeout``, ``not-found`` (404, or 400 for a bad id).

The API key comes from ``S2_API_KEY`` and is sent as ``x-api-key``; the base URL from
``ZOTSYNC_S2_URL``. Clock and sleep are injectable so tests never wait for real.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported when a client is made: a sync without references never needs it
    import httpx


def _retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds (see :func:`zotsync.http.retry_after`)."""
    from zotsync.http import retry_after

    return retry_after(value)


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
        headers = {"x-api-key": key} if key else {}
        self.timeout = timeout
        self.clock = clock
        from zotsync.http import Pacer, RetryPolicy, make_client

        self._policy = RetryPolicy(
            statuses=frozenset({429, *range(500, 600)}),
            max_retries=max_retries,
            base=backoff_base,
            cap=max_backoff,
        )
        self._pacer = Pacer(min_interval=min_interval, clock=clock, sleep=sleep)
        self._http = make_client(headers=headers, timeout=timeout, transport=transport)

    @property
    def requests(self) -> int:
        """HTTP requests sent so far (retries included)."""
        return self._pacer.started

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

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str],
        json: object = None,
        deadline: float | None,
    ) -> Any:
        import httpx

        from zotsync.http import BudgetExhausted, send

        try:
            response = send(
                self._http, method, self.base_url + path, policy=self._policy,
                pacer=self._pacer, deadline=deadline, timeout=self.timeout,
                params=params, json=json,
            )  # fmt: skip
        except BudgetExhausted as exc:
            last = exc.response
            if last is None:
                raise S2Error("timeout", "the reference time budget is spent") from None
            raise S2Error(_retry_reason(last.status_code), str(exc)) from None
        except httpx.TimeoutException as exc:
            raise S2Error("timeout", f"Semantic Scholar did not answer in time ({exc})") from exc
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
        if status in self._policy.statuses:
            attempts = self._policy.max_retries + 1
            raise S2Error(_retry_reason(status), f"HTTP {status} after {attempts} attempts")
        raise S2Error("unreachable", f"HTTP {status}: {_error_text(response)}")


def _retry_reason(status: int) -> str:
    return "rate-limited" if status == 429 else "unreachable"


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:200]
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return str(body["error"])
    return str(body)[:200]
