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
