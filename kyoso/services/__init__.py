"""The domain: plain Python over SQLModel. Nothing in this package imports Reflex.

``check_*`` functions validate input and access; ``do_*`` functions make a
change and return the events it caused, for the realtime module to deliver
after the transaction has committed.
"""
