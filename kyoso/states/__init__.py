"""Reflex states: thin. They call the domain in ``kyoso.services`` and hold what
the page shows. Any rule they seem to apply is applied again by the domain."""
