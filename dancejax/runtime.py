"""Process settings for entry points: the C allocator and the persistent compilation cache.

Scripts (the ``dancejax`` command, the experiment and benchmark scripts, the test suite) call
these once, before JAX starts its threads; the library never calls them on import.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_ARENA_MAX = -1, -3, -8


def keep_freed_memory(log=None) -> bool:
    """Make glibc's allocator keep freed memory for reuse instead of returning it to the system.

    XLA:CPU allocates each step's buffers anew, from its worker threads.  By default glibc serves
    allocations of more than a few MB with fresh ``mmap`` pages (and thread arenas cap their heaps
    at 64 MB), so every step pays page faults on memory it has just freed.  One arena, no ``mmap``
    below 1 GB and no trimming of the heap keep the pages mapped once the heap has grown; the
    cost is that the process keeps its peak heap.  ``benchmarks/allocator.py`` measures the
    effect (faults per step and step time, against the system setting).

    ``DANCEJAX_MALLOC=system`` skips it.  Returns whether the settings were applied (False off
    glibc, e.g. macOS, or when skipped).
    """
    if os.environ.get("DANCEJAX_MALLOC", "").lower() == "system" or not sys.platform.startswith("linux"):
        return False
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    ok = all(
        mallopt(param, value) == 1
        for param, value in ((_M_ARENA_MAX, 1), (_M_MMAP_THRESHOLD, 1 << 30), (_M_TRIM_THRESHOLD, (1 << 31) - 1))
    )
    if log is not None and not ok:
        log("warning: glibc's mallopt refused an allocator setting; running with the system's")
    return ok


def enable_compilation_cache(path=None, log=print) -> str | None:
    """Turn on JAX's persistent compilation cache in ``path`` (default ``$DANCEJAX_CACHE`` or
    ``~/.cache/dancejax/jax``); if the folder cannot be written, warn and run uncached."""
    import jax

    path = Path(path or os.environ.get("DANCEJAX_CACHE") or Path.home() / ".cache" / "dancejax" / "jax")
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write_test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as e:
        log(f"warning: compilation cache folder {path} is not writable ({e.strerror or e}); running uncached")
        return None
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 1.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return str(path)


def setup_process(cache: bool = True, log=None) -> None:
    """Both settings, as every entry point applies them: the allocator first (before JAX starts
    its threads), then the compilation cache unless ``cache`` is False."""
    keep_freed_memory(log=log)
    if cache:
        enable_compilation_cache(log=log or print)
