"""What the finance app plugs into the registries (core, org, approvals)."""
