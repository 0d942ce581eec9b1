"""Pages: each composes stateless components and names its state's on_load."""
