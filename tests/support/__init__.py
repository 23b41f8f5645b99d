"""Helpers the tests share: harnesses, the source contract, crash and state-machine tools."""
