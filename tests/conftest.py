"""Suite-wide settings: hypothesis runs derandomized, so every run tries the same examples
and a CI failure always reproduces locally."""

from hypothesis import settings

settings.register_profile("repeatable", derandomize=True, deadline=None)
settings.load_profile("repeatable")
