"""Holding one worker's math libraries to its share of the cores, so that N workers on a
machine do not each start a thread per core and fight over them.

Called in the worker before any model loads: the OpenMP/BLAS variables for libraries not
loaded yet, ``threadpoolctl`` for those already loaded, torch's and OpenCV's own thread
counts, and the thread count the tools give the ONNX Runtime sessions and the Whisper
model they create (``tools.base.limit_cpu_threads``, read when a session is made).
"""

from __future__ import annotations

import os

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
                    "VECLIB_MAXIMUM_THREADS", "RAYON_NUM_THREADS")


def machine_cores() -> int:
    """Cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def threads_per_worker(workers: int, setting: int = 0) -> int:
    """``setting`` when it is set, else this machine's cores shared among ``workers``."""
    return setting if setting > 0 else max(1, machine_cores() // max(1, workers))


def limit_threads(n: int) -> None:
    """Hold this process's math libraries to ``n`` threads each."""
    for name in THREAD_VARIABLES:
        os.environ[name] = str(n)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(n)
    except ImportError:  # pragma: no cover - comes with the project's dependencies
        pass
    import torch

    torch.set_num_threads(n)
    if n == 1:
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:  # already set, or parallel work has started
            pass
    try:
        import cv2

        cv2.setNumThreads(n)
    except ImportError:  # pragma: no cover
        pass
    from muie.tools.runtime import limit_cpu_threads

    limit_cpu_threads(n)
