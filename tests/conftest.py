"""Two workers for `make test` (pytest -n 2 --dist loadgroup): CI's <= 20 minutes on two cores.

Everything runs in the ``main`` group, in collection order on one worker, as a plain ``pytest`` would run it:
the smoke notebooks share the repository's data/smoke and runs/smoke (a notebook trains what the next one
reads), which two processes must never write at once. Only tests marked ``xdist_group("paper_pipelines")``
(whole paper-profile pipelines in their own scratch project, minutes each, nothing shared with the repository)
go to the other worker."""
from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group("main"))
