"""Helpers shared by the test suite (material generated with the real binaries)."""
