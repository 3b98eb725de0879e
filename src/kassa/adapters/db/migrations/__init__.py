"""Alembic environment and versions for kassa's schema."""
