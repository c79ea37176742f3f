"""Ledgerline core: domain rules, single-table storage and API plumbing shared by every Lambda."""
