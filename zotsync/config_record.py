"""Recording values in ``zotsync.yaml`` by editing its text: comments and other lines kept."""

from __future__ import annotations

import re
from typing import Any

import yaml


def set_config_keys(text: str, updates: dict[str, Any]) -> str:
    """Set top-level keys in a config file's text, keeping comments and other lines.

    Used to record the source given to ``init``/``sync`` (PRODUCT: later runs need only
    ``--vault``). Only simple scalar top-level keys are written; the file is only changed
    where a value differs.
    """
    lines = text.splitlines(keepends=True)
    for key, value in updates.items():
        rendered = f"{key}: {yaml.safe_dump(value, default_flow_style=True).strip()}"
        if rendered.endswith("\n..."):
            rendered = rendered[: -len("\n...")]
        pattern = re.compile(rf"^{re.escape(key)}\s*:(.*)$")
        for i, line in enumerate(lines):
            match = pattern.match(line.rstrip("\r\n"))
            if match:
                current = yaml.safe_load(match.group(1)) if match.group(1).strip() else None
                if current != value:
                    ending = "\r\n" if line.endswith("\r\n") else "\n"
                    lines[i] = rendered + ending
                break
        else:
            if lines and not lines[-1].endswith("\n"):
                lines[-1] += "\n"
            lines.append(rendered + "\n")
    return "".join(lines)
