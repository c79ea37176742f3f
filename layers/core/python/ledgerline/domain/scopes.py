"""The scopes an API key can carry. Each route of `api.routes` names the scopes it needs."""

INGEST = "ingest"
READ = "read"  # every GET of partner data
DISTRIBUTE = "distribute"  # the asset register, runs, payment files, notices (docs/distributions.md)
APPROVE = "approve"  # approving a distribution run
SCOPES = (INGEST, READ, DISTRIBUTE, APPROVE)
DEFAULT_SCOPES = (INGEST, READ)  # a key created without scopes
