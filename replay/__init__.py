"""Replaying recorded case histories against the current workflow code (non-determinism checks)."""
