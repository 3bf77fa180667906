"""MarketDesk benchmarks: data generators and timed scenarios (run by `marketdesk bench`, never by the tests)."""
