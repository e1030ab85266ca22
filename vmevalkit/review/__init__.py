"""The local human review page: `vmevalkit review`."""
