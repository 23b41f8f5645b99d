"""``python -m zotsync`` — the same as the ``zotsync`` command (used by service units)."""

from zotsync.cli import main

if __name__ == "__main__":
    main()
