"""Where the Zotero API key comes from, and how it is kept out of everything else.

The key is a password to the user's library (often a *write* key), so it is read from the
environment (``ZOTERO_API_KEY``) or the OS keyring — never from the vault or ``zotsync.yaml``,
which users sync and share. ``keyring`` is optional: it is imported only when the
environment has no key, and its absence (or a broken backend) just means "no key".

Nothing here logs. :func:`fingerprint` gives caches a stable, irreversible name for "which
key" (so a cached user id is not reused with another account's key), and :func:`redact`
scrubs a key out of any text that might reach a log or an exception.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping

ENV_VAR = "ZOTERO_API_KEY"
KEYRING_SERVICE = "zotsync"
KEYRING_USER = "zotero-api-key"


def _keyring_get(service: str, user: str) -> str | None:
    try:
        import keyring  # optional dependency: zotsync[keyring]
    except ImportError:
        return None
    try:
        value = keyring.get_password(service, user)
    except Exception:  # any backend failure means "no key here", never a crash
        return None
    return value or None


def api_key(
    explicit: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    use_keyring: bool = True,
) -> str | None:
    """The API key: an explicit one, else ``$ZOTERO_API_KEY``, else the OS keyring, else None."""
    if explicit:
        return explicit.strip()
    value = (os.environ if env is None else env).get(ENV_VAR, "").strip()
    if value:
        return value
    return _keyring_get(KEYRING_SERVICE, KEYRING_USER) if use_keyring else None


def store_api_key(key: str) -> None:
    """Save the key in the OS keyring (raises ``RuntimeError`` if keyring is not installed)."""
    try:
        import keyring
    except ImportError as exc:
        raise RuntimeError("install zotsync[keyring] to store the key in the OS keyring") from exc
    keyring.set_password(KEYRING_SERVICE, KEYRING_USER, key.strip())


def fingerprint(key: str | None) -> str:
    """A short irreversible tag for a key, safe to store in a cache ("" when no key)."""
    if not key:
        return ""
    return hashlib.sha256(b"zotsync-key:" + key.encode()).hexdigest()[:16]


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with every given secret replaced by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
