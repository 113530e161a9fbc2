import pytest

from bench.dataset import dataset_load


@pytest.fixture
def load(w):
    """Load a benchmark dataset into the test database (inside the test's transaction,
    rolled back afterwards): `load(scale=0.0005, prefix="small")`."""

    def run(*, scale: float, prefix: str, seed: int = 7):
        return dataset_load(scale=scale, seed=seed, prefix=prefix, chunk_size=300)

    return run
