"""Root pytest configuration, loaded before anything imports SciPy."""

import os

# scikit-learn's check_array_api_input is skipped unless SciPy's array API
# support is switched on before SciPy is first imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")


def pytest_configure(config):
    """The whole test session (tests and doctests) runs torch on one thread.

    The test problems are small: a second thread saves little, and where other
    work shares the cores (CI runners, pytest-xdist) torch's threads wait for
    each other and a fit can run many times slower. Set
    ``SKLEARN_INNMF_TEST_THREADS`` to test with more.
    """
    import torch

    torch.set_num_threads(int(os.environ.get("SKLEARN_INNMF_TEST_THREADS", "1")))
