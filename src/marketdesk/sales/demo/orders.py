"""The demo company's orders (step of the sales demo)."""
