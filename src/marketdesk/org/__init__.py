"""Organisation (R2): company, departments and groups, positions, employees, roles, data scope."""
