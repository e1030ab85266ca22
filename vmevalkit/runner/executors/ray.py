"""The Ray executor: for each model, a pool of Ray actors, each holding the model loaded once (on its own GPU
for GPU models), pulls items until none are left.

The driver (this process) plans, claims and publishes: an actor gets an item (its question included) and
returns what `produce` made — the video's frames travel back to the driver through Ray's object store, and
the driver writes every item through the experiment's one writer (a few writer threads, so writing overlaps
the actors' work). So the output folder need not be shared
with the workers (hosted models keep their job ledger in the experiment's .models/ folder: on a multi-node
cluster, put the output dir on a shared filesystem for their resume to work). An actor that dies (OOM, a lost
node) has its item put back in the queue (at most MAX_ATTEMPTS tries, then recorded as failed) and a
replacement is started. Resources per actor: `--set gpus=G` (fractions allowed) and `--set cpus=C`; the
number of actors per model: `--set actors=N` (default: as many as the cluster's free resources hold, at most
one per item). The controls run in the driver. A local cluster started by the kit listens on 127.0.0.1 only."""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from vmevalkit.errors import UserError
from vmevalkit.runner.context import ModelWork, RunContext, timed
from vmevalkit.runner.item import Produced, produce
from vmevalkit.runner.plan import Item

MAX_ATTEMPTS = 3  # tries per item across actor deaths
WRITER_THREADS = 4  # the driver encodes and writes this many items at once (mp4 encoding and fsync overlap)
LOOPBACK = "127.0.0.1"


def _ray():
    try:
        import ray
    except ImportError as e:
        raise UserError('--ray needs Ray: pip install "vmevalkit[ray]"') from e
    return ray


def start_local(**options: Any) -> Any:
    """Start a Ray cluster on this machine that listens on the loopback interface only. Ray on Linux replaces
    a loopback node address with the machine's reachable one unless its cluster mode is off; it is turned off
    here (in this process, and through the environment in the processes Ray starts)."""
    ray = _ray()
    from ray._private import ray_constants

    ray_constants.ENABLE_RAY_CLUSTER = False
    os.environ[ray_constants.ENABLE_RAY_CLUSTERS_ENV_VAR] = "0"
    ray.init(address="local", _node_ip_address=LOOPBACK, **options)
    return ray


def connect(address: str) -> Any:
    """Join or start a Ray cluster: `auto` joins a running one (RAY_ADDRESS or a local head), else starts one on
    this machine; `local` always starts one; anything else is a cluster address."""
    ray = _ray()
    if ray.is_initialized():
        return ray
    common = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
    try:
        if address == "local":
            start_local(**common)
        elif address == "auto":
            try:
                ray.init(address="auto", **common)
            except ConnectionError:
                start_local(**common)
        else:
            ray.init(address=address, **common)
    except Exception as e:  # noqa: BLE001 -- Ray's own errors are long; one line with the fix instead
        raise UserError(f"--ray {address}: could not join or start a Ray cluster ({type(e).__name__}: "
                        f"{str(e).splitlines()[0] if str(e) else ''}); check the address, or use --ray local") from e
    return ray


class ModelActor:
    """One loaded copy of a model in a Ray worker."""

    def __init__(self, spec, settings: dict, device: str, dtype: str, cache_dir, workdir, threads) -> None:
        from vmevalkit.models import build_model

        if threads:
            import torch

            torch.set_num_threads(threads)
        clock = timed()
        self.model = build_model(spec, device=device, dtype=dtype, overrides=settings, cache_dir=cache_dir)
        self.model.workdir = workdir
        self.load_s = clock()
        self.described = self.model.describe()

    def ready(self) -> tuple[float, dict, int]:
        return self.load_s, self.described, os.getpid()

    def make(self, item: Item, fit_policy: str) -> Produced:
        return produce(self.model, item, fit_policy, progress=False)


@dataclass
class _Pool:
    """One model's actors and queue, as the driver sees them."""

    work: ModelWork
    queue: deque = field(default_factory=deque)
    attempts: dict[str, int] = field(default_factory=dict)
    actors: list = field(default_factory=list)
    described: dict | None = None
    replacements: int = 0
    clock: Any = None


def _resources(ctx: RunContext, work: ModelWork, resources: dict[str, float]) -> dict[str, float]:
    spec = work.spec
    local = spec.kind != "control" and not spec.remote
    gpu_default = (spec.gpus if spec.gpus is not None else 1.0) if local and ctx.device.startswith("cuda") else 0.0
    return {"num_gpus": float(resources.get("gpus", gpu_default)), "num_cpus": float(resources.get("cpus", 1.0))}


def _pool_size(ray, need: dict[str, float], items: int, resources: dict[str, float]) -> int:
    if "actors" in resources:
        return max(1, min(int(resources["actors"]), items))
    free = ray.available_resources()
    fits = [free.get(name, 0.0) / amount for name, amount in (("GPU", need["num_gpus"]), ("CPU", need["num_cpus"]))
            if amount > 0]
    return max(1, min(items, int(min(fits)) if fits else items))


def run_models(ctx: RunContext, works: list[ModelWork], address: str, resources: dict[str, float]) -> None:
    """Make every model's items on Ray actors; every outcome is published by this process."""
    ray = connect(address)
    remote = ray.remote(ModelActor)
    opts = ctx.opts
    pools = []
    for work in works:
        if not work.items:
            continue
        pool = _Pool(work, deque(work.items), clock=timed())
        need = _resources(ctx, work, resources)
        options = {**need, "max_restarts": 0}
        make_actor = lambda w=work, o=options: remote.options(**o).remote(  # noqa: E731
            w.spec, w.settings, ctx.device, opts.dtype, opts.cache_dir, ctx.exp.model_workdir(w.spec.id),
            opts.threads)
        pool.make_actor = make_actor  # type: ignore[attr-defined]
        pool.actors = [make_actor() for _ in range(_pool_size(ray, need, len(work.items), resources))]
        pools.append(pool)
    in_flight: dict[Any, tuple[_Pool, Any, Item | None]] = {}
    writes: list[Future] = []
    writer = ThreadPoolExecutor(WRITER_THREADS, thread_name_prefix="vmevalkit-writer")

    def publish(pool: _Pool, item: Item, produced: Produced) -> None:
        ctx.publish(pool.work, item, pool.described or {}, produced, None)
        pool.work.tally.seconds = pool.clock()

    def feed(pool: _Pool, actor) -> None:
        """Give `actor` the next item it should make, or retire it when its model has none left."""
        while pool.queue:
            item = pool.queue.popleft()
            if ctx.begin(pool.work, item):
                in_flight[actor.make.remote(item, opts.fit)] = (pool, actor, item)
                return
        ray.kill(actor)
        pool.actors.remove(actor)

    for pool in pools:
        for actor in pool.actors:
            in_flight[actor.ready.remote()] = (pool, actor, None)
    try:
        while in_flight:
            done, _ = ray.wait(list(in_flight), num_returns=1)
            pool, actor, item = in_flight.pop(done[0])
            try:
                value = ray.get(done[0])
            except ray.exceptions.RayActorError as e:
                _replace(ray, ctx, pool, actor, item, e, in_flight)
                continue
            except ray.exceptions.RayError as e:  # the model failed to load in the actor
                _fail_load(ray, ctx, pool, actor, e)
                continue
            if item is None:
                load_s, pool.described, _ = value
                pool.work.tally.load_s.append(round(load_s, 3))
            else:  # written by a writer thread while the actor already makes its next item
                writes.append(writer.submit(publish, pool, item, value))
            feed(pool, actor)
            for future in [f for f in writes if f.done()]:
                writes.remove(future)
                future.result()  # a full disk stops the run here
        for pool in pools:  # every actor died and no replacement was left: the rest fail, named as such
            lost = {"type": "RayActorError", "message": "no Ray actor could be kept alive for this model",
                    "stage": "generate", "kind": "worker_lost"}
            while pool.queue:
                item = pool.queue.popleft()
                if ctx.begin(pool.work, item):
                    ctx.publish(pool.work, item, pool.described or {}, Produced({"status": "failed", "error": lost}),
                                None)
        for future in writes:
            future.result()
    finally:
        writer.shutdown(wait=True, cancel_futures=True)
        for pool in pools:
            for actor in pool.actors:
                ray.kill(actor)


def _replace(ray, ctx: RunContext, pool: _Pool, actor, item: Item | None, error: Exception,
             in_flight: dict) -> None:
    """An actor died: put its item back (or fail it after MAX_ATTEMPTS), and start a replacement."""
    pool.actors.remove(actor)
    ctx.say(f"{pool.work.spec.id}: a Ray actor died ({type(error).__name__}); starting a replacement")
    if item is not None:
        tries = pool.attempts[item.name] = pool.attempts.get(item.name, 0) + 1
        if tries >= MAX_ATTEMPTS:
            died = {"type": type(error).__name__, "message": f"the Ray actor making it died {tries} times",
                    "stage": "generate", "kind": "worker_lost"}
            ctx.publish(pool.work, item, pool.described or {}, Produced({"status": "failed", "error": died}), None)
        else:
            ctx.claims.release(item.name)
            ctx.budget.settle(pool.work.spec, pool.work.settings, actual=0.0)
            pool.queue.appendleft(item)
    if pool.queue and pool.replacements < MAX_ATTEMPTS * max(1, len(pool.work.items)):
        pool.replacements += 1
        fresh = pool.make_actor()  # type: ignore[attr-defined]
        pool.actors.append(fresh)
        in_flight[fresh.ready.remote()] = (pool, fresh, None)


def _fail_load(ray, ctx: RunContext, pool: _Pool, actor, error: Exception) -> None:
    """The model could not be built in an actor: its remaining items fail with that error (once)."""
    ray.kill(actor)
    pool.actors.remove(actor)
    cause = getattr(error, "cause", None) or error
    remaining = list(pool.queue)
    pool.queue.clear()
    if remaining:
        pool.work.items = remaining
        ctx.fail_load(pool.work, cause)
