"""The daemon behind ``zotsync watch``, one job per module.

- :mod:`~zotsync.daemon.events`: watchdog callbacks note what changed (the source, or which
  vault file) under a lock, nothing else. Zotero 10 commits land in ``zotero.sqlite-wal`` and
  the main file's mtime moves only at checkpoints, so all of ``zotero.sqlite{,-wal,-journal}``
  are watched.
- :mod:`~zotsync.daemon.loop`: one loop waits for that, then for quiet (Zotero writes in
  bursts), runs the tasks it was given (one incremental sync, the weekly plan when due), and
  goes back to waiting, with backoff after failures. It does not know how a sync is done.
- :mod:`~zotsync.daemon.own_writes`: wake-ups caused only by zotsync's own writes are dropped,
  so no write loop can start.
- :mod:`~zotsync.daemon.schedule`: which week's plan is due, and when the next one is.
- :mod:`~zotsync.daemon.logs`: the rotating log, one line per error with its fix, and the
  per-pass stage timings at ``-vv``.

:mod:`zotsync.commands.watch` wires the sync, plan and discover tasks into the loop for the CLI.
Nothing is imported here, so ``zotsync status`` can read the schedule without watchdog.
"""
