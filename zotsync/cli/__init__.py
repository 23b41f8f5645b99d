"""The ``zotsync`` command line: thin click commands over :mod:`zotsync.api`.

Each command parses its options, calls one library function, and prints the result as text or
as one JSON object (``--json``). Exit codes: 0 success, 1 partial, 2 usage/configuration,
3 source unavailable, 4 conflict needs the user, 5 vault locked by another instance.
"""

from __future__ import annotations

import click

from zotsync import __version__
from zotsync.cli.adopt_cmd import adopt_cmd
from zotsync.cli.daemon_cmds import doctor_cmd, service_group, watch_cmd
from zotsync.cli.discover_cmds import add_cmd, discover_cmd
from zotsync.cli.plan_cmds import index_cmd, plan_cmd, refs_cmd
from zotsync.cli.sync_cmds import demo_cmd, init_cmd, status_cmd, sync_cmd


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="zotsync")
def main() -> None:
    """Keep a Zotero library and an Obsidian vault in step.

    One note per paper, references as wikilinks, weekly reading plans, and never a lost word.
    """


for command in (
    init_cmd,
    demo_cmd,
    sync_cmd,
    adopt_cmd,
    watch_cmd,
    plan_cmd,
    index_cmd,
    refs_cmd,
    status_cmd,
    doctor_cmd,
    discover_cmd,
    add_cmd,
    service_group,
):
    main.add_command(command)
