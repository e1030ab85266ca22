"""CLI subcommands; each module registers one (see vmevalkit.cli)."""
