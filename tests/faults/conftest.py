"""The security tests' small world (one study, three clients, one account per role)."""

from tests.security.conftest import world  # noqa: F401  (a fixture, used by name)
