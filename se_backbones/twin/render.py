"""The twin as a config file: its ``_base_`` (portable: a toolkit config by its ``pkg::``
name), the overrides the Changes write, formatted as Python, and written only once MMEngine
has loaded it."""

import os
import os.path as osp
import tempfile

from .base import base_path, toolkit_name
from .changes import Change, TwinError, plain


def inheritable(name):
    """Whether MMEngine resolves ``'pkg::path'`` as a ``_base_`` (it rejects some paths, e.g.
    mmdet's ``legacy_1.x/...``)."""
    try:
        from mmengine.config.utils import _get_package_and_cfg_path
    except ImportError:  # another MMEngine: trust the name
        return True
    try:
        _get_package_and_cfg_path(name)
    except ValueError:
        return False
    return True


def base_reference(base, out):
    """``(_base_, notes)``: a toolkit config by its ``pkg::`` name, whatever path was given;
    another absolute path as it is; a relative one relative to where the twin is written.

    Example:
        >>> base_reference('/abs/mine.py', 'twins/x.py')
        ('/abs/mine.py', [])
    """
    name = base if '::' in base else toolkit_name(base) if osp.isfile(base) else None
    if name is None:
        if osp.isabs(base) or out is None:
            return osp.abspath(base), []
        return osp.relpath(osp.abspath(base), osp.dirname(osp.abspath(out))), []
    if inheritable(name):
        return name, []
    path = osp.abspath(base_path(name))
    return path, [
        Change.note(
            f'MMEngine cannot inherit {name!r} by name (a dot in a folder '
            f'name): _base_ is its file, {path}'
        )
    ]


def overrides(items):
    """``(top-level, model)`` overrides: what the Changes write, at their paths."""
    root = {}
    for change in items:
        written = change.written()
        if written is None:
            continue
        path, value = written
        *parents, last = path.split('.')
        node = root
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    model = root.pop('model', {})
    return root, model


def render(ctx, items, base):
    """The twin's text: a header naming every change, ``_base_``, ``custom_imports`` and the
    overrides."""
    t = ctx.target
    imports = plain((ctx.cfg.get('custom_imports') or {}).get('imports', []))
    imports = [imports] if isinstance(imports, str) else list(imports)
    if 'se_backbones' not in imports:
        imports.append('se_backbones')
    top, model = overrides(items)
    lines = [
        f'# SE twin of {ctx.base}: {t.arch}'
        + (f', timm weights {t.model_name}' if t.pretrained else ' (untrained)'),
        '# written by se_backbones.twin.make_se_config (tools/make_se_config.py); changes:',
    ]
    lines += [f'#   {c}' for c in items if c.shown]
    lines += [
        f'_base_ = {base!r}',
        f'custom_imports = dict(imports={imports!r}, allow_failed_imports=False)',
    ]
    lines += [f'{key} = {fmt(value, 0, len(key) + 3)}' for key, value in top.items()]
    lines.append(f'model = {fmt(model, 0, 8)}')
    return '\n'.join(lines) + '\n'


def fmt(value, indent, used=0, width=96):
    """Python source for a config value on a line indented by ``indent`` after ``used``
    characters (its ``key=``): ``dict(a=1, ...)`` on one line if it fits, else one item per
    line.

    Example:
        >>> fmt(dict(a=(1, ), b=[None, 'x']), 0)
        "dict(a=(1,), b=[None, 'x'])"
    """
    one = _fmt_line(value)
    if len(one) + indent + used <= width or not isinstance(value, (dict, list, tuple)) or not value:
        return one
    pad = ' ' * (indent + 4)
    if isinstance(value, dict):
        if all(isinstance(k, str) and k.isidentifier() for k in value):
            items = [f'{pad}{k}={fmt(v, indent + 4, len(k) + 1)}' for k, v in value.items()]
            return 'dict(\n' + ',\n'.join(items) + ')'
        items = [f'{pad}{k!r}: {fmt(v, indent + 4, len(repr(k)) + 2)}' for k, v in value.items()]
        return '{\n' + ',\n'.join(items) + '}'
    open_, close = ('[', ']') if isinstance(value, list) else ('(', ')')
    items = [f'{pad}{fmt(v, indent + 4)}' for v in value]
    tail = ',' if isinstance(value, tuple) and len(value) == 1 else ''
    return open_ + '\n' + ',\n'.join(items) + tail + close


def _fmt_line(value):
    if isinstance(value, dict):
        if all(isinstance(k, str) and k.isidentifier() for k in value):
            return 'dict(' + ', '.join(f'{k}={_fmt_line(v)}' for k, v in value.items()) + ')'
        return '{' + ', '.join(f'{k!r}: {_fmt_line(v)}' for k, v in value.items()) + '}'
    if isinstance(value, list):
        return '[' + ', '.join(_fmt_line(v) for v in value) + ']'
    if isinstance(value, tuple):
        inner = ', '.join(_fmt_line(v) for v in value)
        return f'({inner},)' if len(value) == 1 else f'({inner})'
    return repr(value)


def write_checked(text, out):
    """Write ``text`` to ``out`` only if MMEngine loads it (a temporary file next to it first,
    so relative ``_base_`` paths resolve as they will); folders made for it go again if not."""
    from mmengine.config import Config

    folder = osp.dirname(osp.abspath(out))
    created, parent = [], folder
    while not osp.isdir(parent):
        created.append(parent)
        parent = osp.dirname(parent)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix='.py', prefix='.se_twin_', dir=folder)
    written = False
    try:
        with os.fdopen(fd, 'w') as f:
            f.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's file is private; a config is not
        try:
            Config.fromfile(tmp)
        except Exception as error:
            reason = ' '.join(str(error).split())[:300]
            raise TwinError(
                f'the twin does not load ({type(error).__name__}: {reason}); nothing written'
            ) from error
        os.replace(tmp, out)
        written = True
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
        for path in [] if written else created:
            try:
                os.rmdir(path)
            except OSError:
                pass
