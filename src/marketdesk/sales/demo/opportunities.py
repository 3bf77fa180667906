"""The demo company's opportunities (step of the sales demo)."""
