"""Built-in gctune workloads: plain modules, each a documented allocation pattern."""

BUILTIN = ("acyclic_churn", "short_cycles", "longlived_heap", "tree_parents", "request_loop")
