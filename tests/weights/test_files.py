"""MMEngine's own checkpoints load under torch's weights_only default once se_backbones is
imported, and nothing beyond what MMEngine writes is allowed."""

import hashlib
import os
import pickle
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub

from se_backbones.weights import allow_mmengine_checkpoints, load_state_dict_file, sha256_of
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


# load_state_dict_file: every refusal of the docs (docs/reliability.md), word for word, and
# what loads


def save(obj, path, legacy=False):
    torch.save(obj, str(path), _use_new_zipfile_serialization=not legacy)
    return str(path)


def torch_error(path):
    """torch's own error for ``path`` read with weights_only=True, one line: the reference for
    the reason quoted in our message."""
    try:
        torch.load(path, weights_only=True)
    except Exception as error:
        return ' '.join(f'{type(error).__name__}: {error}'.split())
    raise AssertionError(f'{path} loads')


class RunsCode:
    """Unpickling it would run a shell command (touch the marker file)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}',)


TENSORS = {'conv.weight': torch.arange(6.0).reshape(2, 3), 'bn.running_var': torch.ones(2)}


@pytest.mark.parametrize(
    'content',
    [
        [torch.ones(1)],  # not a dict
        {'w': torch.ones(1), 'step': 3},  # a value that is not a tensor
        {'w': [torch.ones(1)]},
        {'state_dict': {'model': TENSORS}},  # one wrapper is removed, not two
        {'meta': {}, 'state_dict': [torch.ones(1)]},  # a wrapper that is not a dict stays
    ],
    ids=['list', 'int-value', 'list-value', 'nested-wrappers', 'list-wrapper'],
)
def test_content_other_than_a_dict_of_tensors_is_refused(tmp_path, content):
    path = save(content, tmp_path / 'w.pth')
    with pytest.raises(ValueError) as error:
        load_state_dict_file(path)
    assert str(error.value) == f'{path}: not a state dict (a dict of tensors)'


def test_a_missing_file_is_named(tmp_path):
    path = str(tmp_path / 'nope.pth')
    with pytest.raises(FileNotFoundError) as error:
        load_state_dict_file(path, sha256='0' * 64)
    assert str(error.value) == f'checkpoint file {path!r} does not exist'


@pytest.mark.parametrize('digest', ['xyz', '0123456', '0' * 65, 'g' * 64, 12345678, b'0' * 64])
def test_a_malformed_digest_is_refused_naming_it(tmp_path, digest):
    path = save(TENSORS, tmp_path / 'w.pth')
    with pytest.raises(ValueError) as error:
        load_state_dict_file(path, sha256=digest)
    assert str(error.value) == f'sha256 must be 8 to 64 hex digits, got {digest!r}'


def test_a_wrong_digest_is_refused_with_both_digests(tmp_path):
    path = save(TENSORS, tmp_path / 'w.pth')
    with open(path, 'rb') as f:
        actual = hashlib.sha256(f.read()).hexdigest()
    assert sha256_of(path) == actual
    wrong = ('1' if actual[0] == '0' else '0') + actual[1:12]
    with pytest.raises(ValueError) as error:
        load_state_dict_file(path, sha256=wrong)
    assert str(error.value) == (
        f'{path}: SHA-256 {actual} does not match the expected {wrong}; the file is corrupted '
        'or not the one meant'
    )
    for right in (actual, actual[:8], actual.upper(), actual[:20].upper()):
        assert load_state_dict_file(path, sha256=right).keys() == TENSORS.keys()


def test_sha256_of_a_file_larger_than_one_read(tmp_path):
    path = tmp_path / 'big.bin'
    data = bytes(range(256)) * (5 * 4096 + 7)  # 5 MiB and a bit: several 1 MiB chunks
    path.write_bytes(data)
    assert sha256_of(str(path)) == hashlib.sha256(data).hexdigest()


def test_a_pickle_with_code_is_refused_even_if_the_environment_unforces_weights_only(
    tmp_path, monkeypatch
):
    """torch's default would unpickle freely with TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1; the loader
    asks for weights_only itself, so the code never runs."""
    monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    marker = tmp_path / 'code_ran'
    path = save({'w': torch.ones(1), 'x': RunsCode(marker)}, tmp_path / 'hostile.pth')
    reason = torch_error(path)
    assert len(reason) > 200  # so the message quotes the first 160 characters
    with pytest.raises(ValueError) as error:
        load_state_dict_file(path)
    assert str(error.value) == (
        f'{path}: refused, it holds pickled objects other than tensors, which could run code '
        f'(torch.load weights_only=True: {reason[:160]}...); only plain state dicts are loaded'
    )
    assert not marker.exists()


@pytest.mark.parametrize('legacy', [False, True], ids=['zip', 'legacy'])
def test_a_truncated_file_is_not_readable_quoting_torch(tmp_path, legacy):
    good = save(TENSORS, tmp_path / 'good.pth', legacy)
    path = str(tmp_path / 'cut.pth')
    with open(good, 'rb') as f, open(path, 'wb') as out:
        out.write(f.read()[:200])
    reason = torch_error(path)
    with pytest.raises(ValueError) as error:
        load_state_dict_file(path)
    assert str(error.value) == (
        f'{path}: not a readable checkpoint, truncated or corrupted? ({reason[:200]})'
    )


def test_a_flipped_byte_in_a_zip_entry_is_caught_by_its_crc(tmp_path):
    good = save({'w': torch.arange(4096.0)}, tmp_path / 'good.pth')
    path = str(tmp_path / 'flipped.pth')
    data = bytearray(open(good, 'rb').read())
    data[len(data) // 2] ^= 0xFF  # inside the tensor's 16 kB
    with open(path, 'wb') as f:
        f.write(bytes(data))
    with pytest.raises(ValueError) as error:
        load_state_dict_file(path)
    assert re.fullmatch(
        rf'{re.escape(path)}: corrupted, the CRC-32 of its entry \S+/data/0 does not match its '
        'data',
        str(error.value),
    )


@pytest.mark.parametrize('wrapper', [None, 'state_dict', 'model'])
@pytest.mark.parametrize('suffix', ['.pth', '.bin', '.legacy.pth', '.safetensors'])
def test_tensors_load_unwrapped_and_without_the_ddp_prefix(tmp_path, wrapper, suffix):
    """A ``state_dict``/``model`` wrapper (MMEngine, torchvision/DeiT) is removed, and a leading
    ``module.`` (DDP) of each key; a ``module.`` elsewhere in a key stays."""
    stored = {
        'module.conv.weight': TENSORS['conv.weight'],
        'head.module.bias': torch.zeros(3),
        'bn.running_var': TENSORS['bn.running_var'],
    }
    expected = {
        'conv.weight': TENSORS['conv.weight'],
        'head.module.bias': torch.zeros(3),
        'bn.running_var': TENSORS['bn.running_var'],
    }
    path = str(tmp_path / f'w{suffix}')
    if suffix == '.safetensors':
        if wrapper is not None:
            pytest.skip('safetensors holds tensors only')
        from safetensors.torch import save_file

        save_file(stored, path)
    else:
        content = stored if wrapper is None else {'meta': {'epoch': 1}, wrapper: stored}
        save(content, path, legacy=suffix == '.legacy.pth')
    loaded = load_state_dict_file(path)
    assert sorted(loaded) == sorted(expected)
    for key, value in expected.items():
        assert torch.equal(loaded[key], value), key


def test_a_checkpoint_saved_on_a_gpu_loads_on_the_cpu(tmp_path):
    """The storages of a GPU checkpoint are tagged 'cuda:0' (written here by re-tagging a CPU
    one, in torch's legacy format, which has no checksum): they load onto the CPU."""
    if torch.cuda.is_available():
        pytest.skip('the point is a machine without CUDA')
    path = save(TENSORS, tmp_path / 'gpu.pth', legacy=True)
    data = open(path, 'rb').read()
    cpu, gpu = b'X\x03\x00\x00\x00cpu', b'X\x06\x00\x00\x00cuda:0'
    assert cpu in data  # the storages' location tag
    with open(path, 'wb') as f:
        f.write(data.replace(cpu, gpu))
    with pytest.raises((RuntimeError, pickle.UnpicklingError)):  # without map_location
        torch.load(path, weights_only=True)
    loaded = load_state_dict_file(path)
    for key, value in TENSORS.items():
        assert loaded[key].device.type == 'cpu' and torch.equal(loaded[key], value), key


# allow_mmengine_checkpoints: what the allowlist admits


@pytest.fixture
def own_allowlist():
    """torch's allowlist as it was before the test (the test may clear it)."""
    saved = torch.serialization.get_safe_globals()
    yield
    torch.serialization.clear_safe_globals()
    torch.serialization.add_safe_globals(saved)


needs_allowlist = pytest.mark.skipif(
    not hasattr(torch.serialization, 'add_safe_globals'),
    reason='torch without add_safe_globals: nothing is allowlisted',
)


@needs_allowlist
@pytest.mark.parametrize(
    'obj, name',
    [
        (HistoryBuffer, '__init__'),
        (HistoryBuffer, '_set_default_statistics'),
        (HistoryBuffer, 'data'),  # a property: not a method
        (HistoryBuffer, 'register_statistics'),  # a classmethod: would register code
        (HistoryBuffer, 'no_such_method'),
        (HistoryBuffer, 1),
        (np.ndarray, 'tofile'),  # an allowed class, not HistoryBuffer
        (3, 'real'),  # not a class: named by its value
        (subprocess.Popen, 'communicate'),  # refused by torch already: not an allowed class
    ],
)
@pytest.mark.parametrize('protocol', [2, 3])  # __builtin__.getattr, builtins.getattr
def test_getattr_in_a_checkpoint_is_refused_but_for_history_buffer_methods(
    tmp_path, obj, name, protocol, own_allowlist
):
    torch.serialization.clear_safe_globals()  # what the import allowed: allowed again here
    assert allow_mmengine_checkpoints() and allow_mmengine_checkpoints()  # idempotent
    path = str(tmp_path / 'crafted.pth')
    torch.save({'x': GetattrOf(obj, name)}, path, pickle_protocol=protocol)
    with pytest.raises(pickle.UnpicklingError) as error:
        torch.load(path, weights_only=True)
    if obj is not subprocess.Popen:
        assert (
            f'refused getattr({getattr(obj, "__name__", obj)!r}, {name!r}) in a checkpoint: '
            'only the statistics '
            "methods of MMEngine's HistoryBuffer are allowed"
        ) in str(error.value)
    for method in ('mean', 'max', 'min', 'current', 'statistics', 'update'):
        torch.save({'x': GetattrOf(HistoryBuffer, method)}, path, pickle_protocol=protocol)
        assert torch.load(path, weights_only=True)['x'] is getattr(HistoryBuffer, method)


def numpy_names(path, old, new):
    """Rewrite the numpy module name of the pickled rebuilders in a legacy-format file."""
    data = open(path, 'rb').read()
    assert old in data
    with open(path, 'wb') as f:
        f.write(data.replace(old, new))


@needs_allowlist
@pytest.mark.skipif(not WEIGHTS_ONLY_DEFAULT, reason='named entries need torch >= 2.6')
@pytest.mark.parametrize('module', [b'numpy.core.multiarray', b'numpy._core.multiarray'])
def test_numpy_values_of_either_numpy_major_version_load(tmp_path, module, own_allowlist):
    """numpy 1.x pickles its arrays and scalars through numpy.core.multiarray, numpy 2.x through
    numpy._core.multiarray: a checkpoint written under either loads under either."""
    torch.serialization.clear_safe_globals()
    assert allow_mmengine_checkpoints()
    path = save(
        {'a': np.arange(3, dtype=np.int64), 's': np.float64(1.5), 'f': np.float32(2)},
        tmp_path / 'np.pth',
        legacy=True,
    )
    data = open(path, 'rb').read()
    written = next(m for m in (b'numpy._core.multiarray', b'numpy.core.multiarray') if m in data)
    numpy_names(path, written + b'\n', module + b'\n')
    loaded = torch.load(path, weights_only=True)
    assert loaded['a'].tolist() == [0, 1, 2] and loaded['a'].dtype == np.int64
    assert loaded['s'] == 1.5 and type(loaded['s']) is np.float64
    assert loaded['f'] == 2 and type(loaded['f']) is np.float32


@needs_allowlist
@pytest.mark.parametrize('version', [(2, 5), (2, 6)])
def test_before_torch_2_6_numpy_and_history_buffers_are_allowed_by_their_own_names(
    tmp_path, monkeypatch, own_allowlist, version
):
    """torch 2.4/2.5 know no (object, name) entries: the classes and numpy's rebuilders are
    allowed as themselves, and getattr is not allowed at all."""
    torch.serialization.clear_safe_globals()
    monkeypatch.setattr('se_backbones.weights.files.torch_version', lambda: version)
    assert allow_mmengine_checkpoints() is True
    allowed = torch.serialization.get_safe_globals()
    assert any(isinstance(entry, tuple) for entry in allowed) == (version >= (2, 6))
    assert HistoryBuffer in allowed and np.ndarray in allowed
    path = str(tmp_path / 'np.pth')
    torch.save({'a': np.arange(3), 's': np.float64(1.5)}, path)
    loaded = torch.load(path, weights_only=True)
    assert loaded['a'].tolist() == [0, 1, 2] and loaded['s'] == 1.5
    torch.save({'x': GetattrOf(HistoryBuffer, 'mean')}, path)
    if version >= (2, 6):  # (object, pickled name) entries: getattr's stand-in
        assert torch.load(path, weights_only=True)['x'] is HistoryBuffer.mean
        return
    with pytest.raises(pickle.UnpicklingError, match='getattr'):
        torch.load(path, weights_only=True)


def test_without_add_safe_globals_nothing_is_allowed(monkeypatch):
    """torch before 2.4: it unpickles freely by default, nothing to allow."""
    monkeypatch.delattr(torch.serialization, 'add_safe_globals', raising=False)
    assert allow_mmengine_checkpoints() is False


@pytest.mark.parametrize(
    'version, expected',
    [
        ('2.14.1', (2, 14)),
        ('2.5.1+cu121', (2, 5)),
        ('2.10.0a0+git1234', (2, 10)),
        ('3.0', (3, 0)),
        ('2.6+cpu', (2, 6)),  # a local version right after the minor
    ],
)
def test_torch_version_is_major_minor(monkeypatch, version, expected):
    monkeypatch.setattr(torch, '__version__', version)
    assert torch_version() == expected
