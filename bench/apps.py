from django.apps import AppConfig


class BenchConfig(AppConfig):
    """The dataset generator and the benchmark runner (docs/performance.md)."""

    name = "bench"
    verbose_name = "Benchmark"
