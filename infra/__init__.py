"""Ledgerline infrastructure: one CDK construct per concern, composed by infra.stack."""
