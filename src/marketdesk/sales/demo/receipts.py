"""The demo company's receipts (step of the sales demo)."""
