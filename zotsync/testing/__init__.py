"""Test support shipped with the package: fixture builders and loopback servers.

Tests, the benchmark and users' own scripts build Zotero databases and fake services from
plain Python data through these modules; nothing binary is checked in.
"""
