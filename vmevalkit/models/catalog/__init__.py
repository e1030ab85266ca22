"""The built-in model specs, one module per family; each module registers its specs when imported."""
