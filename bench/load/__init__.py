"""A load generator of python-socketio clients that speak Reflex's protocol.

See bench/README.md ("Realtime") for how to run it; bench/loadgen.py is the
command line.
"""
