"""`vmevalkit tasks list` and `vmevalkit tasks generate`: the built-in reasoning tasks; `vmevalkit tasks import`
(in vmevalkit/datasets/command.py): the field's question sets."""

from __future__ import annotations

import argparse
from pathlib import Path

from vmevalkit.atomic import make_writable_dir
from vmevalkit.datasets.command import add_import_parser
from vmevalkit.errors import UserError
from vmevalkit.limits import QUESTIONS_PER_TASK, check_count


def _names(value: str) -> list[str]:
    names = list(dict.fromkeys(n.strip() for n in value.split(",") if n.strip()))
    if not names:
        raise argparse.ArgumentTypeError("give task names separated by commas, e.g. maze,chess")
    return names


def register(subparsers) -> None:
    parser = subparsers.add_parser("tasks", help="list the built-in tasks, generate question folders, or import "
                                   "a question set")
    sub = parser.add_subparsers(dest="tasks_command", metavar="ACTION")
    sub.required = True
    listing = sub.add_parser("list", help="list the built-in tasks, their versions and difficulties")
    listing.set_defaults(func=list_tasks)
    suites = sub.add_parser("suites", help="list the named, versioned suites (tasks x difficulties x counts x seeds)")
    suites.set_defaults(func=list_suites)
    gen = sub.add_parser("generate", help="write VMEvalKit question folders made by the task generators")
    gen.add_argument("--tasks", type=_names, default=None,
                     help="comma-separated task names (default: every task); see `vmevalkit tasks list`")
    gen.add_argument("--n", type=int, default=10, help="questions per task (default 10)")
    gen.add_argument("--seed", type=int, default=0, help="seed of the first question; question i uses seed+i")
    gen.add_argument("--difficulty", default=None,
                     help="one difficulty for every question (default: the task's difficulties take turns)")
    gen.add_argument("--suite", default=None, help="generate a named suite instead (see `vmevalkit tasks suites`)")
    gen.add_argument("--out", type=Path, required=True, help="folder to write <task>_task/<id>/ folders into")
    gen.set_defaults(func=generate)
    add_import_parser(sub)


def list_tasks(args: argparse.Namespace) -> int:
    from vmevalkit.tasks import all_tasks

    tasks = all_tasks()
    width = max((len(n) for n in tasks), default=4)
    print(f"{'task':<{width}}  version  difficulties          description")
    for name, task in tasks.items():
        print(f"{name:<{width}}  {task.version:<7}  {','.join(task.difficulties):<20}  {task.description}")
    return 0


def list_suites(args: argparse.Namespace) -> int:
    from vmevalkit.tasks.suites import SUITES

    for suite in SUITES.values():
        print(f"{suite.name}  {suite.size} questions  definition {suite.definition_hash()}  {suite.description}")
    return 0


def generate(args: argparse.Namespace) -> int:
    from vmevalkit.tasks import all_tasks, generate_questions, get_task

    if args.suite is not None:
        return generate_suite(args)
    names = args.tasks or list(all_tasks())
    check_count("--n", args.n, QUESTIONS_PER_TASK)
    for name in names:
        task = get_task(name)
        if args.difficulty and args.difficulty not in task.difficulties:
            raise UserError(f"task {name!r} has no difficulty {args.difficulty!r}; "
                            f"choose one of {', '.join(task.difficulties)}")
    make_writable_dir(args.out, "output folder", "--out")
    folders = generate_questions(names, args.n, args.seed, args.difficulty, args.out)
    print(f"{len(folders)} question folders in {args.out} ({', '.join(names)})")
    return 0


def generate_suite(args: argparse.Namespace) -> int:
    from vmevalkit.runner.inputs import suite_questions

    if args.tasks or args.difficulty:
        raise UserError("--suite fixes the tasks and difficulties; drop --tasks / --difficulty")
    make_writable_dir(args.out, "output folder", "--out")
    found = suite_questions(args.suite, args.out, None)
    print(f"{found.suite['questions']} question folders of suite {args.suite} in {args.out} "
          f"(definition {found.suite['definition_hash']}, questions {found.suite['questions_hash']})")
    return 0
