"""MMEngine's own checkpoints load under torch's weights_only default once se_backbones is
imported, and nothing beyond what MMEngine writes is allowed."""

import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub

from se_backbones.weights import allow_mmengine_checkpoints
from se_backbones.weights.files import torch_version

WEIGHTS_ONLY_DEFAULT = torch_version() >= (2, 6)


def mmengine_checkpoint(path):
    """What MMEngine's CheckpointHook writes besides the weights: the message hub's history
    buffers (numpy scalars and arrays, getattr references to HistoryBuffer methods)."""
    hub = MessageHub.get_instance('test_files')
    for i in range(3):
        hub.update_scalar('train/loss', np.float64(0.5 + i))
        hub.update_scalar('train/lr', 0.01)
    hub.update_info('iter', 3)
    torch.save(
        {
            'meta': {'message_hub': hub.state_dict(), 'seed': np.int64(0)},
            'state_dict': {'w': torch.ones(2)},
        },
        path,
    )


def test_an_mmengine_checkpoint_loads_with_the_default_after_the_import_alone(tmp_path):
    path = str(tmp_path / 'iter_3.pth')
    mmengine_checkpoint(path)
    script = textwrap.dedent("""
        import sys, torch
        try:
            torch.load(sys.argv[1])
            print('loaded-without-plugin')
        except Exception as error:
            print('refused-without-plugin')
        import se_backbones
        checkpoint = torch.load(sys.argv[1])
        print(checkpoint['meta']['message_hub']['log_scalars']['train/loss'].mean())
    """)
    result = subprocess.run(
        [sys.executable, '-c', script, path], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    before, mean = result.stdout.split()
    # on torch >= 2.6 the default refuses it until the plugin is imported
    assert before == ('refused-without-plugin' if WEIGHTS_ONLY_DEFAULT else 'loaded-without-plugin')
    assert float(mean) == pytest.approx(1.5)


class GetattrOf:
    """Pickles as ``getattr(obj, name)``, as a crafted checkpoint could."""

    def __init__(self, obj, name):
        self.obj, self.name = obj, name

    def __reduce__(self):
        return getattr, (self.obj, self.name)


@pytest.mark.skipif(
    not hasattr(torch.serialization, 'add_safe_globals'),
    reason='torch without add_safe_globals: nothing is allowlisted',
)
@pytest.mark.parametrize(
    'obj, name',
    [
        (HistoryBuffer, '__init__'),
        (HistoryBuffer, '_set_default_statistics'),
        (subprocess.Popen, 'communicate'),
    ],
)
def test_getattr_is_limited_to_history_buffer_methods(tmp_path, obj, name):
    assert allow_mmengine_checkpoints() and allow_mmengine_checkpoints()  # idempotent
    path = str(tmp_path / 'crafted.pth')
    torch.save({'x': GetattrOf(obj, name)}, path)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path, weights_only=True)
    torch.save({'x': GetattrOf(HistoryBuffer, 'mean')}, path)
    assert torch.load(path, weights_only=True)['x'] is HistoryBuffer.mean
