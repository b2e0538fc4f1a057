"""Reading checkpoint files without running code they may carry.

Two kinds of file are read here:

- weight files (a timm or torchvision state dict, a converted backbone), by
  :func:`load_state_dict_file`: tensors only, CRC-32 and optional SHA-256 checked first;
- MMEngine's own training checkpoints (``epoch_N.pth``, ``iter_N.pth``), which the toolkits'
  tools load with ``torch.load``: :func:`allow_mmengine_checkpoints` (run by
  ``import se_backbones``) lets torch's ``weights_only`` unpickler rebuild the few non-tensor
  objects MMEngine writes into them, and nothing else.
"""

import hashlib
import os
import pickle
import re
import zipfile

import torch


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def load_state_dict_file(path, sha256=None):
    """Tensors of a local checkpoint, read without running any code it may carry.

    ``.safetensors`` files are read by safetensors; ``.pth``/``.bin`` by ``torch.load`` with
    ``weights_only=True``, which refuses pickled objects other than tensors and containers.
    A ``state_dict``/``model`` wrapper and ``module.`` prefixes are removed.

    Args:
        path (str): The file.
        sha256 (str, optional): Its SHA-256 hex digest (or a prefix of at least 8 digits, as
            in torch.hub file names), checked before reading. torch's zip format carries a
            CRC-32 per entry, which is always checked; safetensors and legacy (non-zip)
            ``torch.save`` files have no checksum, so only a digest catches their flipped
            bytes. Default: None.

    Raises:
        FileNotFoundError: no such file.
        ValueError: a wrong digest; a file that is truncated, corrupted or not a checkpoint;
            a pickle with code (refused); content that is not a dict of tensors.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f'checkpoint file {path!r} does not exist')
    if sha256 is not None:
        if not isinstance(sha256, str) or not re.fullmatch(r'[0-9a-fA-F]{8,64}', sha256):
            raise ValueError(f'sha256 must be 8 to 64 hex digits, got {sha256!r}')
        actual = sha256_of(path)
        if not actual.startswith(sha256.lower()):
            raise ValueError(
                f'{path}: SHA-256 {actual} does not match the expected '
                f'{sha256}; the file is corrupted or not the one meant'
            )
    if zipfile.is_zipfile(path):  # torch's format: check every entry's CRC-32 first
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
        if bad is not None:
            raise ValueError(
                f'{path}: corrupted, the CRC-32 of its entry {bad} does not match its data'
            )
    try:
        if path.endswith('.safetensors'):
            from safetensors.torch import load_file

            state_dict = load_file(path)
        else:
            state_dict = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as error:  # torch's, zipfile's or safetensors' reader failing
        reason = ' '.join(f'{type(error).__name__}: {error}'.split())
        if isinstance(error, pickle.UnpicklingError) and 'weights only' in reason.lower():
            raise ValueError(
                f'{path}: refused, it holds pickled objects other than tensors, '
                'which could run code (torch.load weights_only=True: '
                f'{reason[:160]}...); only plain state dicts are loaded'
            ) from None
        raise ValueError(
            f'{path}: not a readable checkpoint, truncated or corrupted? ({reason[:200]})'
        ) from None
    for wrapper in ('state_dict', 'model'):
        if isinstance(state_dict, dict) and isinstance(state_dict.get(wrapper), dict):
            state_dict = state_dict[wrapper]
            break
    if not isinstance(state_dict, dict) or not all(
        isinstance(v, torch.Tensor) for v in state_dict.values()
    ):
        raise ValueError(f'{path}: not a state dict (a dict of tensors)')
    return {k[len('module.') :] if k.startswith('module.') else k: v for k, v in state_dict.items()}


def _history_buffer_method(cls, name):
    """What ``getattr(HistoryBuffer, name)`` in an MMEngine checkpoint may return: a public
    method defined by HistoryBuffer itself (``min``, ``max``, ``mean``, ``current``, ...),
    nothing else."""
    from mmengine.logging import HistoryBuffer

    if (
        cls is not HistoryBuffer
        or not isinstance(name, str)
        or name.startswith('_')
        or (not callable(vars(HistoryBuffer).get(name)))
    ):
        raise pickle.UnpicklingError(
            f'refused getattr({getattr(cls, "__name__", cls)!r}, {name!r}) in a checkpoint: '
            "only the statistics methods of MMEngine's HistoryBuffer are allowed"
        )
    return getattr(HistoryBuffer, name)


def _numpy_globals():
    """numpy's array/scalar rebuilders under both module names (numpy 1.x writes
    ``numpy.core.multiarray``, numpy 2.x ``numpy._core.multiarray``), and its dtype classes."""
    import numpy as np

    try:
        from numpy._core import multiarray
    except ImportError:  # numpy 1.x
        from numpy.core import multiarray
    dtypes = {
        type(np.dtype(t))
        for t in (
            np.float64,
            np.float32,
            np.float16,
            np.int64,
            np.int32,
            np.int16,
            np.int8,
            np.uint8,
            np.bool_,
        )
    }
    named = [
        (getattr(multiarray, fn), f'{module}.multiarray.{fn}')
        for fn in ('_reconstruct', 'scalar')
        for module in ('numpy.core', 'numpy._core')
    ]
    return [np.ndarray, np.dtype, *dtypes], named


def allow_mmengine_checkpoints():
    """Let ``torch.load(..., weights_only=True)`` read MMEngine's training checkpoints, for the
    whole process. Idempotent; run by ``import se_backbones``.

    Since torch 2.6 ``torch.load`` defaults to ``weights_only=True``, and MMEngine 0.10 (its
    ``CheckpointLoader``, ``Runner.resume``, the toolkits' ``tools/test.py``) calls it without
    the argument. Its checkpoints hold, besides tensors, the message hub's ``HistoryBuffer``
    objects, the numpy arrays, dtypes and scalars in them, and ``getattr(HistoryBuffer,
    'min')``-style references to the buffer's statistics methods. Those classes are allowed;
    ``getattr`` is not: under its pickled name sits :func:`_history_buffer_method`, which
    returns a HistoryBuffer statistics method and refuses everything else. So a checkpoint that
    carries code is still refused.

    On torch without ``torch.serialization.add_safe_globals`` (before 2.4) ``torch.load``
    unpickles freely by default and nothing is needed; before 2.6 the pickled-name form
    ``(obj, name)`` is unknown, and the classes are allowed under their own names.

    Returns:
        bool: Whether anything was allowed (False on torch without ``add_safe_globals``).

    Example:
        >>> import torch, numpy as np
        >>> from se_backbones.weights import allow_mmengine_checkpoints
        >>> allow_mmengine_checkpoints() == hasattr(torch.serialization, 'add_safe_globals')
        True
    """
    add = getattr(torch.serialization, 'add_safe_globals', None)
    if add is None:
        return False
    from mmengine.logging import HistoryBuffer

    classes, named = _numpy_globals()
    add([HistoryBuffer, *classes])
    if torch_version() >= (2, 6):  # (object, pickled name) entries
        add(
            [
                *named,
                (_history_buffer_method, '__builtin__.getattr'),
                (_history_buffer_method, 'builtins.getattr'),
            ]
        )
    else:  # weights_only is not the default: allowed for explicit weights_only loads only
        add(list({id(obj): obj for obj, _ in named}.values()))
    return True


def torch_version():
    """torch's (major, minor)."""
    return tuple(int(part) for part in torch.__version__.split('+')[0].split('.')[:2])
