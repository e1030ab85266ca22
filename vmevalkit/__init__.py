"""vmevalkit: ask video models to solve visual reasoning questions, and check whether they did."""

__version__ = "0.1.0"
