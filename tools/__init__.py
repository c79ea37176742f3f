"""Operator and test tools run from a checkout; never part of the Lambda layer."""
