"""Seed rows, one module per migration that writes any (frozen: see m001)."""
