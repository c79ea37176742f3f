"""Outgoing events: building (`outgoing`), publishing to EventBridge (`publish`) and checking
them against their published JSON Schemas (`schemas`, for tests and tools)."""
