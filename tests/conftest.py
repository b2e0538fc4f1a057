import os

import pytest

from se_backbones.data import make_toy_shapes


@pytest.fixture(scope='session')
def toy_root(tmp_path_factory):
    """A small toy shapes set (8 train, 4 val images of 64x64), shared by the session: read
    only (a test that regenerates it, at other sizes, errors at the session's end)."""
    root = str(tmp_path_factory.mktemp('toy_shapes'))
    make_toy_shapes(root, num_train=8, num_val=4, size=64)
    with open(os.path.join(root, 'VERSION')) as f:
        stamp = f.read()
    yield root + '/'
    with open(os.path.join(root, 'VERSION')) as f:
        assert f.read() == stamp, 'the shared toy_root was regenerated: use a tmp_path root'


@pytest.fixture
def mmlogs():
    """What the package logs through MMEngine's current logger (``print_log(...,
    logger='current')``), as (level, message) pairs: the real logger, so a message sent to
    another logger, or printed, is not seen. MMEngine's own report of each parameter's init
    (``<name> - torch.Size([...]): <how it was initialised>``) is left out."""
    import logging

    from mmengine.logging import MMLogger

    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            message = record.getMessage()
            if ' - torch.Size([' not in message:
                records.append((record.levelno, message))

    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.INFO)  # a tool run in-process (benchmark, summary) may have raised it
    handler = Keep(level=logging.INFO)
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)
    logger.setLevel(level)
