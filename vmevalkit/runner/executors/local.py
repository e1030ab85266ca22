"""The local executor: each model is loaded once in this process and makes its items one after another, or
`concurrency` at a time for models that wait on a provider (a hosted model's `--set concurrency=N`)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from vmevalkit.models import build_model
from vmevalkit.runner.context import ModelTally, ModelWork, RunContext, timed
from vmevalkit.runner.item import produce


def run_model(ctx: RunContext, work: ModelWork) -> ModelTally:
    """Load the model (only when it has items to make) and make them; returns its tally."""
    if not work.items:
        return work.tally
    opts = ctx.opts
    clock = timed()
    ctx.bar.set_description(f"run: loading {work.spec.id}")
    try:
        model = build_model(work.spec, device=ctx.device, dtype=opts.dtype, overrides=work.settings,
                            cache_dir=opts.cache_dir)
    except Exception as e:  # noqa: BLE001 -- a model that cannot load fails its items, the others still run
        ctx.fail_load(work, e)
        work.tally.seconds = clock()
        return work.tally
    load_seconds = clock()
    work.tally.load_s.append(round(load_seconds, 3))
    model.workdir = ctx.exp.model_workdir(work.spec.id)
    described = model.describe()
    ctx.bar.set_description(f"run: {work.spec.id}")

    def make(item) -> None:
        if ctx.begin(work, item):
            ctx.publish(work, item, described, produce(model, item, opts.fit, opts.progress), load_seconds)

    workers = int(work.settings.get("concurrency", 1) or 1)
    if workers <= 1:
        for item in work.items:
            make(item)
    else:
        with ThreadPoolExecutor(workers, thread_name_prefix=f"vmevalkit-{work.spec.id}") as pool:
            futures = [pool.submit(make, item) for item in work.items]
            try:
                for future in futures:
                    future.result()
            except BaseException:  # a full disk or Ctrl-C: start nothing more
                for future in futures:
                    future.cancel()
                raise
    work.tally.seconds = clock()
    return work.tally
