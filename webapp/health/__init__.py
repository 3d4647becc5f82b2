"""Liveness and database health for monitoring."""
