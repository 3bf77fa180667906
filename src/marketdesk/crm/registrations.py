"""What the crm app plugs into the registries (core, org, approvals)."""
