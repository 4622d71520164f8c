"""The benchmarks: each module is a command that measures one thing and prints (and, with --json,
writes) its figures; bench/README.md has the results and the exact command of each.

Run one from the repository root, as a module, with ../shared present:

    $(bin/venv)/bin/python -m bench.NAME --help

A bench imports the project as any caller does, and the helpers several benches share from
bench.common; no bench imports another (each is a command).
"""
