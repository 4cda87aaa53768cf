"""Open-loop saturation search: fixed arrival rates, raised step by step until p99 passes
the limit. Closed-loop users slow down with the server and can hide a collapse; here a
request leaves at its scheduled time whatever happened to the previous ones, and its
latency counts from that scheduled time (no coordinated omission)."""
