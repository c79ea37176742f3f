"""HTTP plumbing shared by the handlers: problems, caller identity, resolver set-up."""
