"""The distribution's version (read by ``pyproject.toml`` and sent as the User-Agent)."""

__version__ = "0.1.0"
