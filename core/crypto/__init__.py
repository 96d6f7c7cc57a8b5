"""Envelope encryption of sensitive fields with per-user data keys (work in progress)."""
