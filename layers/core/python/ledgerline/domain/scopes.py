"""The scopes an API key can carry. Each route of `api.routes` names the scopes it needs."""

INGEST = "ingest"
READ = "read"  # every GET of partner data
SCOPES = (INGEST, READ)
