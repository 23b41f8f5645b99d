"""Index notes: ``Tags/``, ``Collections/`` and ``Papers.md`` (render: pure; build: vault I/O)."""
