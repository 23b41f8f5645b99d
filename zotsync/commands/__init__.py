"""One module per command: ``run``-style library functions the CLI wraps (only the CLI prints)."""
