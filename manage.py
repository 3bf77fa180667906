#!/usr/bin/env python
"""Django's command-line utility for a source checkout (same as the `marketdesk` command)."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "src"))

if __name__ == "__main__":
    from marketdesk.__main__ import main

    main()
