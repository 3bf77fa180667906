"""One module per scenario; `marketdesk bench <name>` runs `bench/scenarios/<name>.py`."""
