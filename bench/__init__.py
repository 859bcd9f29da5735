"""Benchmarks: ``python -m bench.<name> [--backend sqlite|postgresql|both]``.

``bench.common`` is the harness every benchmark shares: a throwaway migrated database per
backend, settings for it, timers, percentiles and the markdown rows ``BENCHMARKS.md`` holds.
Each benchmark module exposes a ``run_*`` function that takes a database URL and returns
plain numbers (the smoke tests call it with a small ``n``) and a ``main()`` for the CLI.
"""
