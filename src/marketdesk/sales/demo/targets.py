"""The demo company's targets (step of the sales demo)."""
