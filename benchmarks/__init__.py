"""Speed and quality benchmarks; run from the repository root as modules, e.g. ``python -m benchmarks.group_moelora``."""
