"""The one loop the outbox's three consumers share to read it (consumers.py); the table itself is
`core.models.Event`, which every app writes."""
