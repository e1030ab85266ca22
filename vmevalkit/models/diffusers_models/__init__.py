"""Open image-to-video models through diffusers: one adapter (`adapter.DiffusersModel`) over a table of families
(`families.FAMILIES`), whose settings are checked before loading (`rules`). The registry entries live in
vmevalkit/models/catalog/diffusers.py; docs/diffusers.md has the details."""
