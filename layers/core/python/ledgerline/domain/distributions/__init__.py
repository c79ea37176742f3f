"""Distributions: pro-rata shares of an asset's cash flows to its holders (docs/distributions.md).

Pure: money and units, the rounding rule, the run's state machine, exception rules, the holder
CSV import and the exported files. No storage and no AWS here.
"""
