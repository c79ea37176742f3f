"""Pure domain: payload models, validation rules and decisions. No AWS, no HTTP."""
