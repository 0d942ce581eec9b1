"""The domain: plain Python over SQLModel. Nothing in this package imports
Reflex, ``kyoso.states`` or ``kyoso.realtime`` (``tests/test_layers.py``).

``check_*``/``require_*`` functions validate input and access; functions that
change data record the events they caused on the session
(``events.record``), for the realtime module to deliver after the commit.
"""
