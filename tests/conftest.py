import pytest

from se_backbones.data import make_toy_shapes


@pytest.fixture(scope='session')
def toy_root(tmp_path_factory):
    """A small toy shapes set (8 train, 4 val images of 64x64)."""
    root = str(tmp_path_factory.mktemp('toy_shapes'))
    make_toy_shapes(root, num_train=8, num_val=4, size=64)
    return root + '/'
