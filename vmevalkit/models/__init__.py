"""Video model backends and their registry."""
