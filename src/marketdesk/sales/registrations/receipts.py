"""What the receipts part of sales plugs into the registries (nav, approvals, todos, search...)."""
