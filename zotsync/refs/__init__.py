"""Reference lists: who a paper cites, which of those are in the library, and who cites it.

The pipeline, one module per step:

* :mod:`~zotsync.refs.ids` — DOI, arXiv id and title normalization; the identifiers of an item;
* :mod:`~zotsync.refs.s2` — the Semantic Scholar Graph API client (batch, ``/references``
  paging, rate limit, backoff, time budget);
* :mod:`~zotsync.refs.cache` — reference lists per paper in the state database, with age;
* :mod:`~zotsync.refs.match` — matching a reference to a library item (arXiv id, DOI, then
  title + year);
* :mod:`~zotsync.refs.resolve` — the entry point :func:`resolve_references`: cache, network
  within the budget, matching, and ``cited_by`` as the exact mirror of the matched references;
* :mod:`~zotsync.refs.render` — the text of the ``references`` and ``cited-by`` regions;
* :mod:`~zotsync.refs.missing` — the most cited papers the library lacks.

Everything except ``s2``, ``cache`` and ``resolve`` is pure. Network trouble never raises out
of :func:`resolve_references`: the items concerned are *deferred* (status ``pending``) and a
later run fetches them, so references never change a sync's exit code.
"""
