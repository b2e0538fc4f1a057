import os

import pytest


def pytest_configure(config):
    config.addinivalue_line(
        'markers',
        'sweep: the full twin sweep over every shipped config '
        '(SE_TWIN_SWEEP=1; not in the default run)',
    )


def pytest_collection_modifyitems(config, items):
    if os.environ.get('SE_TWIN_SWEEP') == '1':
        return
    skip = pytest.mark.skip(reason='the full sweep runs with SE_TWIN_SWEEP=1')
    for item in items:
        if 'sweep' in item.keywords:
            item.add_marker(skip)
