"""The election-day scenario for Locust: options, users, flows, counters, SLO hook.
Imported by ../locustfile.py; everything here runs inside gevent-patched processes."""
