"""Heavy jobs run in a child process, so the memory they take goes back to the system at their end.

A bulk run of letters or a bundle build grows a process by hundreds of megabytes that CPython's
allocator keeps once the job is over. The worker hands such a job to a fresh child and waits: the
child is forked by multiprocessing's fork server (a small process started before any thread,
holding the jobs' modules imported), never from the threaded worker itself, so it inherits no
lock, database connection or queue connection. The child creates its own app (its own engine and
queue storage), runs the job under its own lease exactly as the worker did, and exits.

A child that dies (killed, out of memory) is noticed by the worker waiting on it: its job is
queued again while attempts remain, else failed with a sentence. A worker that dies takes its
children with it (they watch its pid), so the lease stops beating and the sweeper hands the job on.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import multiprocessing.forkserver
import os
import pickle
import select
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask

log = logging.getLogger(__name__)

_context = multiprocessing.get_context("forkserver")

#: Called in the worker when a heavy task's child died: ``(child pid, how it ended, args)``.
Crashed = Callable[[int, str, tuple[Any, ...]], None]

#: The functions that run in a child, by task name ("module.function"), with their crash handler.
HEAVY: dict[str, tuple[Callable[..., Any], Crashed | None]] = {}

#: True in a child: its heavy task runs right there.
_state = {"in_child": False}

#: The children running now, by pid (told to stop when the worker stops).
_running: dict[int, Any] = {}


class ChildFailed(RuntimeError):
    """The child raised before or after its job's own error handling (logged in the child)."""


def in_child() -> bool:
    return _state["in_child"]


def start_server() -> None:
    """Start the fork server now (not with the first heavy job), with the heavy tasks' modules
    imported once, so that a child starts in a fraction of a second."""
    modules = sorted({name.rpartition(".")[0] for name in HEAVY})
    # ``portal`` and ``portal.jobs`` first: the order create_app imports them in (no cycle).
    _context.set_forkserver_preload(["portal", "portal.jobs", *modules])
    multiprocessing.forkserver.ensure_running()


def server_pid() -> int | None:
    """The fork server's pid, once started (what the bench adds to the worker's memory)."""
    return getattr(multiprocessing.forkserver._forkserver, "_forkserver_pid", None)


def settings(app: Flask) -> dict[str, Any]:
    """The app's resolved settings that can travel to a child (every plain value)."""
    kept = {}
    for key, value in app.config.items():
        try:
            pickle.dumps(value)
        except Exception:  # noqa: S112 - a function or handle: the child's defaults apply
            continue
        kept[key] = value
    return kept


def run(app: Flask, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Run the heavy task ``name`` in a child and return what it returned; a child that died
    is handed to the task's crash handler.

    :raises ChildFailed: the child raised (its traceback is in the worker's log).
    """
    reader, writer = _context.Pipe(duplex=False)
    child = _context.Process(
        target=_child,
        args=(name, args, kwargs, settings(app), app.instance_path, os.getpid(), writer),
        name=f"job {name}{args!r}",
        daemon=True,  # ended (SIGTERM) when the worker exits normally
    )
    child.start()
    _running[child.pid] = child
    writer.close()
    try:
        answer = reader.recv()
    except EOFError:  # it died without answering
        answer = None
    finally:
        reader.close()
        child.join()
        _running.pop(child.pid, None)
    if answer is None:
        how = ending(child.exitcode)
        log.error("The process (pid %s) running %s%r %s", child.pid, name, args, how)
        crashed = HEAVY[name][1]
        if crashed is not None:
            crashed(child.pid, how, args)
        return f"crashed: {how}"
    if "error" in answer:
        raise ChildFailed(f"{name}{args!r} in pid {child.pid}: {answer['error']}")
    return answer["result"]


def stop_children() -> None:
    """The worker is stopping: each child's job stops at its next checkpoint and hands itself
    back (``jobs.services.stopping`` in the child)."""
    for pid in list(_running):
        try:
            os.kill(pid, signal.SIGUSR1)
        except ProcessLookupError:
            pass


def ending(exitcode: int | None) -> str:
    """How a child ended, as a job's message says it."""
    if exitcode is not None and exitcode < 0:
        name = signal.Signals(-exitcode).name
        if -exitcode == signal.SIGKILL:
            return f"was killed ({name}; often the machine running out of memory)"
        return f"was killed ({name})"
    return f"ended with exit status {exitcode}"


def _child(
    name: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    config: dict[str, Any],
    instance_path: str,
    worker_pid: int,
    writer: Any,
) -> None:
    """The child: its own app, the task's function, the answer through the pipe."""
    _state["in_child"] = True
    # Ctrl-C reaches the whole process group: the worker decides (it hands the job back).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A stop asked for while the app is being built (SIGUSR1's default would kill the child).
    asked = threading.Event()
    signal.signal(signal.SIGUSR1, lambda _signal, _frame: asked.set())
    _die_with(worker_pid)
    os.environ["PORTAL_INSTANCE_PATH"] = instance_path
    from .. import create_app

    app = create_app(config)
    from ..extensions import db
    from .services import stopping

    signal.signal(signal.SIGUSR1, lambda _signal, _frame: stopping.set())
    if asked.is_set():
        stopping.set()
    function = _function(name)
    with app.app_context():
        try:
            answer = {"result": function(*args, **kwargs)}
        except Exception as error:  # told to the worker, which logs it as the task's failure
            log.exception("%s%r failed in its process", name, args)
            answer = {"error": f"{type(error).__name__}: {error}"}
        finally:
            db.session.remove()
            db.engine.dispose()
    writer.send(answer)
    writer.close()


def _function(name: str) -> Callable[..., Any]:
    """The heavy task's own function (its module is imported if create_app did not)."""
    if name not in HEAVY:
        importlib.import_module(name.rpartition(".")[0])
    return HEAVY[name][0]


def _die_with(pid: int) -> None:
    """End this process as soon as the worker ``pid`` is gone: a killed worker must not leave a
    child beating the job's lease (its parent is the fork server, not the worker)."""
    try:
        handle = os.pidfd_open(pid)
    except ProcessLookupError:
        os._exit(1)
    except (AttributeError, OSError):  # no pidfd (not Linux ≥ 5.3): look twice a second
        handle = None

    def watch() -> None:
        if handle is not None:
            select.select([handle], [], [])
        else:
            while _alive(pid):
                time.sleep(0.5)
        os._exit(1)  # nothing of the unfinished step is committed, as if killed

    threading.Thread(target=watch, name="worker-watch", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def job_crashed(child_pid: int, how: str, args: tuple[Any, ...]) -> None:
    """A ``Job``'s process died mid-run: queue it again while attempts remain, else fail it
    with a sentence (in the worker, in the task's app context)."""
    from ..db import write_intent
    from ..extensions import db
    from . import huey
    from . import services as jobs
    from .lease import release, worker_name
    from .models import Job, JobStatus

    job_id = int(args[0])
    write_intent.set(True)
    db.session.rollback()
    job = db.session.get(Job, job_id)
    if job is None or job.status is not JobStatus.RUNNING:
        return  # it ended, or was handed back or cancelled meanwhile
    if job.worker != worker_name(child_pid):
        return  # another worker runs it now
    if job.attempts < job.max_attempts:
        reason = f"the process running it (pid {child_pid}) {how} during attempt {job.attempts}"
        jobs.requeue(job, reason)
        return
    message = (
        f"The process running this job {how} during attempt {job.attempts} of "
        f"{job.max_attempts}, the last allowed, so the job was given up; nothing of its "
        "unfinished step was kept. Ask an administrator to check the worker's log (and its "
        "memory) before starting it again."
    )
    token = job.lease_token
    if jobs.fail(job_id, message, token=token):
        release(huey.storage, job_id)
