"""The outbox (Event) and the one loop its three consumers share to read it (consumers.py)."""
