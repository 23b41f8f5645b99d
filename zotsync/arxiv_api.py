"""A thin, typed wrapper over the ``arxiv`` package, pointed at a configurable endpoint.

Why a wrapper: the rest of zotsync wants frozen, version-split records (:class:`ArxivPaper`)
and zotsync errors, not ``arxiv.Result`` objects and ``arxiv.HTTPError``; and tests, mirrors
and proxies need a different query URL (``ZOTSYNC_ARXIV_URL``). The ``arxiv`` package exposes
the endpoint as the class attribute ``Client.query_url_format``; :class:`ArxivClient` sets it
per instance, so nothing global changes.

arXiv's terms ask for one request every 3 seconds on one connection; the package enforces
``delay_seconds`` between all requests of a client (paging and retries included), so zotsync
builds *one* client per run and passes it around. Retries: 5xx and connection errors are
retried (``num_retries``) by the package; a 4xx is the caller's fault (arXiv answers 400 to a
malformed id) and is raised at once as :class:`zotsync.errors.RemoteError` instead of being
retried three times. The package does its HTTP with ``requests``; zotsync does none of its own
here and catches the package's network errors as :class:`OSError` (their base class), so it
imports no second HTTP stack (a read timeout is retried like a lost connection).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import arxiv

from zotsync.errors import RemoteError

DEFAULT_URL = "https://export.arxiv.org/api/query"
DEFAULT_DELAY_SECONDS = 3.0
#: ids per ``id_list`` request: keeps URLs short and pages small
ID_BATCH = 100
#: the most results one listing asks for (arXiv allows 30,000 per query)
MAX_LISTING = 2000

_VERSION_RE = re.compile(r"^(?P<id>.+?\d)v(?P<version>\d+)$")


@dataclass(frozen=True, slots=True)
class ArxivPaper:
    """One arXiv record. ``id`` never has a version; ``version`` holds it (1 if unknown)."""

    id: str
    version: int
    title: str
    authors: tuple[str, ...]
    summary: str
    published: datetime
    updated: datetime
    primary_category: str
    categories: tuple[str, ...] = ()
    comment: str = ""
    doi: str = ""
    journal_ref: str = ""
    pdf_url: str = ""
    #: the Atom entry id as arXiv sent it (``http://arxiv.org/abs/IDvN``)
    entry_id: str = field(default="", compare=False)

    @property
    def abs_url(self) -> str:
        """The unversioned abstract page, as users share it."""
        return f"https://arxiv.org/abs/{self.id}"


def split_version(short_id: str) -> tuple[str, int | None]:
    """``("1706.03762", 5)`` from ``1706.03762v5``; version None when absent."""
    match = _VERSION_RE.match(short_id)
    if match:
        return match.group("id"), int(match.group("version"))
    return short_id, None


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def paper_from_result(result: arxiv.Result) -> ArxivPaper:
    """Convert the package's result; whitespace in titles/abstracts is collapsed."""
    short = result.entry_id.split("/abs/")[-1]
    base, version = split_version(short)
    return ArxivPaper(
        id=base,
        version=version or 1,
        title=_clean(result.title),
        authors=tuple(_clean(a.name) for a in result.authors),
        summary=_clean(result.summary),
        published=result.published,
        updated=result.updated,
        primary_category=result.primary_category or "",
        categories=tuple(result.categories),
        comment=_clean(result.comment),
        doi=_clean(result.doi),
        journal_ref=_clean(result.journal_ref),
        pdf_url=result.pdf_url or "",
        entry_id=result.entry_id,
    )


class _Client(arxiv.Client):
    """``arxiv.Client`` with its own endpoint and no retries of client errors (4xx)."""

    def __init__(self, base_url: str, **kwargs: float | int) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.query_url_format = base_url.rstrip("?") + "?{}"
        self.requests_made = 0

    def _parse_feed(
        self, url: str, first_page: bool = True, _try_index: int = 0
    ) -> arxiv.ParsedFeed:
        # One attempt per call of the parent (``_try_index=num_retries`` disables its own
        # recursion), so a 4xx can stop the loop; the parent still enforces the delay.
        last: Exception | None = None
        for _ in range(self.num_retries + 1):
            self.requests_made += 1
            try:
                return super()._parse_feed(url, first_page=first_page, _try_index=self.num_retries)
            except arxiv.HTTPError as err:
                if 400 <= err.status < 500 and err.status != 429:
                    raise
                last = err
            except (arxiv.UnexpectedEmptyPageError, OSError) as err:
                last = err
        assert last is not None
        raise last


class ArxivClient:
    """Metadata by id and recent listings from the arXiv query API (rate-limited).

    ``base_url`` defaults to ``ZOTSYNC_ARXIV_URL`` or :data:`DEFAULT_URL`; ``delay_seconds``
    (3 s by default, as arXiv asks) is the minimum gap between any two requests.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        delay_seconds: float = DEFAULT_DELAY_SECONDS,
        num_retries: int = 3,
        page_size: int = 100,
    ) -> None:
        self.base_url = base_url or os.environ.get("ZOTSYNC_ARXIV_URL") or DEFAULT_URL
        self.delay_seconds = delay_seconds
        self._client = _Client(
            self.base_url,
            page_size=page_size,
            delay_seconds=delay_seconds,
            num_retries=num_retries,
        )

    @property
    def requests_made(self) -> int:
        """HTTP requests sent so far (retries included)."""
        return self._client.requests_made

    def _run(self, search: arxiv.Search) -> Iterator[ArxivPaper]:
        try:
            for result in self._client.results(search):
                yield paper_from_result(result)
        except arxiv.HTTPError as err:
            raise RemoteError(
                f"arXiv answered HTTP {err.status} for {err.url}",
                fix="check the ids/query; for 5xx try again later"
                if err.status < 500
                else "arXiv is unavailable; try again later",
            ) from err
        except (arxiv.ArxivError, OSError) as err:
            raise RemoteError(
                f"arXiv query failed: {short_reason(err)}",
                fix=f"check the network or ZOTSYNC_ARXIV_URL ({self.base_url})",
            ) from err

    def fetch_by_ids(self, ids: Iterable[str]) -> dict[str, ArxivPaper]:
        """Papers for the given ids, keyed by unversioned id; missing ids are simply absent.

        A versioned id (``…v2``) fetches that version; otherwise the latest. Duplicates are
        asked once. Ids are sent in batches of :data:`ID_BATCH`.
        """
        wanted: list[str] = []
        for raw in ids:
            if raw not in wanted:
                wanted.append(raw)
        found: dict[str, ArxivPaper] = {}
        for start in range(0, len(wanted), ID_BATCH):
            batch = wanted[start : start + ID_BATCH]
            search = arxiv.Search(id_list=batch, max_results=len(batch))
            for paper in self._run(search):
                found[paper.id] = paper
        return found

    def list_recent(
        self,
        categories: Sequence[str] = (),
        queries: Sequence[str] = (),
        *,
        days: int = 7,
        now: datetime | None = None,
        max_results: int = MAX_LISTING,
    ) -> list[ArxivPaper]:
        """Papers submitted in the last ``days`` days, newest first, without duplicates.

        All categories form one search (``cat:A OR cat:B``); each query is its own search
        (the union is returned, the ranking decides what matters). A query that already
        uses arXiv field syntax (``ti:…``, ``abs:…``) is passed through, plain words are
        searched in all fields. Paging is the package's (``page_size``).
        """
        now = (now or datetime.now(UTC)).astimezone(UTC)
        window = date_window(now, days)
        searches: list[str] = []
        if categories:
            cats = " OR ".join(f"cat:{c}" for c in categories)
            searches.append(f"({cats}) AND {window}")
        for query in queries:
            searches.append(f"({query_terms(query)}) AND {window}")
        papers: dict[str, ArxivPaper] = {}
        for query in searches:
            search = arxiv.Search(
                query=query,
                max_results=max_results,
                sort_by=arxiv.SortCriterion.SubmittedDate,
                sort_order=arxiv.SortOrder.Descending,
            )
            for paper in self._run(search):
                papers.setdefault(paper.id, paper)
        return sorted(papers.values(), key=lambda p: (p.published, p.id), reverse=True)


def short_reason(err: BaseException) -> str:
    """One short line for a failed request (urllib3's own text runs to several hundred chars).

    Zotsync's own errors keep their message; network failures say what kind they are and
    which host; anything else is cut to its first line.
    """
    if isinstance(err, RemoteError):
        return err.message
    # the arxiv package's errors come from requests, which zotsync does not import itself: the
    # kind is read from the class names (requests' Timeout and ConnectionError are OSErrors)
    kinds = {cls.__name__ for cls in type(err).__mro__}
    if isinstance(err, TimeoutError) or "Timeout" in kinds:
        kind = "timed out"
    elif isinstance(err, OSError) and ("ConnectionError" in kinds or "NetworkError" in kinds):
        kind = "cannot connect"
    elif isinstance(err, arxiv.HTTPError):
        return f"HTTP {err.status}"
    else:
        text = (str(err).splitlines() or [type(err).__name__])[0]
        return text if len(text) <= 120 else text[:117] + "..."
    request = getattr(err, "request", None)
    host = urlsplit(request.url).hostname if request is not None and request.url else None
    return f"{kind} to {host}" if host else kind


def date_window(now: datetime, days: int) -> str:
    """``submittedDate:[YYYYMMDDHHMM TO YYYYMMDDHHMM]`` (GMT) covering the last ``days``."""
    start = now - timedelta(days=days)
    return f"submittedDate:[{start:%Y%m%d%H%M} TO {now:%Y%m%d%H%M}]"


def query_terms(query: str) -> str:
    """A user query in arXiv syntax: plain words become ``all:`` terms joined by AND."""
    if re.search(r"\b(?:ti|au|abs|co|jr|cat|rn|id|all):", query):
        return query
    words = [w for w in re.split(r"\s+", query.strip()) if w]
    return " AND ".join(f"all:{w}" for w in words) if words else "all:*"
