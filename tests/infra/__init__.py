"""Infrastructure tests: one synth of the CDK app per session, then template assertions."""
