"""Experiments: every model × every question × every sample → the output tree of vmevalkit/results.py,
resumably, on one process, many processes, or a Ray cluster.

The parts, each readable on its own:
- `plan`: pure — items (model, question, sample) with their seeds and result keys; shards.
- `inputs`: the questions of a run (a folder, generated tasks, the demo).
- `writer`: staging, atomic publish (metadata last), recovery of interrupted replacements, `finished`.
- `claims`: per-item claims and the experiment lock, so concurrent runs never make an item twice.
- `item`: making one item (fit, generate, describe the outcome), wherever the model is.
- `context`: what executors share, and `RunContext.publish`, the one way an outcome is written and counted.
- `executors/`: `local` (this process) and `ray` (actors); adding one touches neither planning nor writing.
- `budget`, `record` (experiment.json), `summary`, `options`, and `run` (`run_experiment`), which ties them.

An item is finished when its metadata.json says "ok", its files are there and its `result_key` matches the one
this run would make. Finished items are skipped; items made with other settings are regenerated; one item's
failure is recorded in its metadata and the run goes on."""

from vmevalkit.runner.options import DEFAULT_MODELS, RunOptions
from vmevalkit.runner.plan import Item, question_seed, result_key
from vmevalkit.runner.run import RunResult, run_experiment

__all__ = ["DEFAULT_MODELS", "Item", "RunOptions", "RunResult", "question_seed", "result_key", "run_experiment"]
