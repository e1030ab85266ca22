"""Executors make the planned items of each model: `local` (this process, the default) and `ray` (a pool of
Ray actors per model). Both publish through RunContext.publish; neither plans nor writes files itself."""
