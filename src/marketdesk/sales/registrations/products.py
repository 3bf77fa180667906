"""What the products part of sales plugs into the registries (nav, approvals, todos, search...)."""
