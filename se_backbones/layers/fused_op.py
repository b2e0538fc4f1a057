"""The compiled SE block end (``csrc/scale_add_relu.cpp``): one pass over memory for
``relu(x * gate + identity)`` and one for its backward, where the PyTorch formulas in
:mod:`se_backbones.layers.scale_add_relu` make three to five.

It is optional. ``python -m se_backbones.build_ops`` compiles it once per torch version
(about 40 s; needs a C++ compiler and ninja, as mmcv's build does; ``tools/setup.sh`` runs it) into
``~/.cache/se_backbones/ops`` (or ``$SE_BACKBONES_OPS_DIR``). ``import se_backbones`` loads it if it
is there and never compiles; without it the PyTorch formulas run: the same results to float
rounding, a slower train step (docs/benchmarks.md). ``SE_BACKBONES_NO_FUSED_OP=1`` turns it off.
"""
import hashlib
import os
import sys
import warnings

import torch

SOURCE = os.path.join(os.path.dirname(__file__), 'csrc', 'scale_add_relu.cpp')
NAME = 'se_backbones_scale_add_relu'
DISABLE_ENV = 'SE_BACKBONES_NO_FUSED_OP'
# -fopenmp: at::parallel_for's OpenMP loop (the symbols come from torch's own libgomp)
CFLAGS = ['-O3', '-fopenmp']


def build_dir():
    """Where the op for this torch, Python and source lives: a build for another torch is never
    loaded."""
    root = os.environ.get('SE_BACKBONES_OPS_DIR') or os.path.join(
        os.environ.get('XDG_CACHE_HOME') or os.path.expanduser('~/.cache'), 'se_backbones', 'ops')
    with open(SOURCE, 'rb') as file:
        digest = hashlib.sha256(file.read() + ' '.join(CFLAGS).encode()).hexdigest()[:12]
    tag = f'torch{torch.__version__}-{sys.implementation.cache_tag}-{digest}'
    return os.path.join(root, tag.replace('+', '_'))


def library_path():
    return os.path.join(build_dir(), NAME + '.so')


def build(verbose=False, force=False):
    """Compile the op into :func:`build_dir` and return it; if it is there already (the
    directory is named after this torch and the source's hash), just load it."""
    if os.path.exists(library_path()) and not force:
        return _import(library_path())
    from torch.utils.cpp_extension import load as load_extension
    directory = build_dir()
    os.makedirs(directory, exist_ok=True)
    return load_extension(NAME, [SOURCE], extra_cflags=CFLAGS, build_directory=directory,
                          verbose=verbose)


def _import(path):
    import importlib.util
    spec = importlib.util.spec_from_file_location(NAME, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _disabled():
    """Whether ``SE_BACKBONES_NO_FUSED_OP`` turns the op off (any value but '' and '0')."""
    return os.environ.get(DISABLE_ENV, '0') not in ('', '0')


def status():
    """(in use, one line saying why) for the compiled op in this process."""
    import sys
    module = sys.modules.get('se_backbones.layers.scale_add_relu')
    if module is not None and module.OP is not None:
        return True, f'in use: {module.OP.__file__}'
    if _disabled():
        return False, f'not in use: turned off by {DISABLE_ENV}={os.environ[DISABLE_ENV]}'
    if not os.path.exists(library_path()):
        return False, (f'not in use: not built for torch {torch.__version__} (looked for '
                       f'{library_path()}); build it with python -m se_backbones.build_ops')
    return False, f'not in use: {library_path()} did not load (see the warning above)'


def load():
    """The compiled op if it has been built for this torch (and is not turned off), else None."""
    if _disabled():
        return None
    path = library_path()
    if not os.path.exists(path):
        return None
    try:
        return _import(path)
    except Exception as error:  # a broken build: say so once, run the PyTorch formulas
        warnings.warn(f'se_backbones: not using the compiled SE block end {path} ({error}); '
                      f'rebuild it with python -m se_backbones.build_ops')
        return None
