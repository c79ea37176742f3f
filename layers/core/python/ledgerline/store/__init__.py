"""The single table: key layout, records with versions, API keys."""
