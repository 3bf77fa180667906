"""The demo company's products (step of the sales demo)."""
