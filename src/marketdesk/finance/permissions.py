"""Permission codenames of the finance app (budgets and expenses, R7), named once."""

from enum import StrEnum


class FinancePerm(StrEnum):
    # Budgets (R7.1): compile, change through adjustments, see
    VIEW_BUDGET = "finance.view_budget"
    ADD_BUDGET = "finance.add_budget"
    CHANGE_BUDGET = "finance.change_budget"
    # Supplementary budgets and transfers (R7.2.1)
    VIEW_ADJUSTMENT = "finance.view_budgetadjustment"
    ADD_ADJUSTMENT = "finance.add_budgetadjustment"
    # Expense requests before spending (事前申请, R7.2.1)
    VIEW_REQUEST = "finance.view_expenserequest"
    ADD_REQUEST = "finance.add_expenserequest"
    # Expense claims (R7.2.2)
    VIEW_CLAIM = "finance.view_expenseclaim"
    ADD_CLAIM = "finance.add_expenseclaim"
    REVIEW_CLAIM = "finance.review_expenseclaim"
    POST_CLAIM = "finance.post_expenseclaim"
    PAY_CLAIM = "finance.pay_expenseclaim"
    # Categories, accounting (R7.3.1) and analysis (R7.3.2)
    CHANGE_CATEGORY = "finance.change_expensecategory"
    VIEW_ACCOUNTING = "finance.view_accounting"
    VIEW_ANALYSIS = "finance.view_analysis"
