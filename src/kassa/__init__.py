"""kassa: a self-hostable Smart Glocal-compatible payment-session gateway."""

__version__ = "0.1.0"
