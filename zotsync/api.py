"""The library facade: zotsync's public Python API, what a script or a test calls.

Each function takes a vault path and plain options, does its work under the vault lock where it
writes, and returns a typed result; none of them prints. Errors are
:class:`~zotsync.errors.ZotsyncError` subclasses that the CLI maps to exit codes.

This module only gathers names from where they live (``workspace``, ``commands/``, the
factories), so it sits at the top of the layers beside ``cli/``: nothing inside the package
imports it (import-linter checks this).
"""

from __future__ import annotations

from zotsync.commands.demo import build_demo
from zotsync.commands.index import index
from zotsync.commands.init import InitResult, init_vault
from zotsync.commands.plan import PlanResult, plan
from zotsync.commands.status import status
from zotsync.commands.sync import SyncReport, sync
from zotsync.refs.factory import demo_references, make_ref_resolver
from zotsync.sources.factory import make_source
from zotsync.sync.engine import SyncOptions, SyncResult
from zotsync.workspace import (
    STATE_DIR,
    SourceOptions,
    check_source_inputs,
    check_vault,
    configure,
    is_vault,
    open_state,
    state_dir,
)

__all__ = [
    "STATE_DIR",
    "InitResult",
    "PlanResult",
    "SourceOptions",
    "SyncOptions",
    "SyncReport",
    "SyncResult",
    "build_demo",
    "check_source_inputs",
    "check_vault",
    "configure",
    "demo_references",
    "index",
    "init_vault",
    "is_vault",
    "make_ref_resolver",
    "make_source",
    "open_state",
    "plan",
    "state_dir",
    "status",
    "sync",
]
