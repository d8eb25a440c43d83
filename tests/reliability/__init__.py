"""Reliability tests: crashes, several instances, concurrent edits, fault injection."""
