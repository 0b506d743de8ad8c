"""Fixtures for governance tests."""

from tests.fake_network import dns, network  # noqa: F401 (fixtures for tests of outbound calls)
