"""The base config: where it is (a path or a toolkit name), loading it, its toolkit, and its
backbone with the class defaults filled in."""

import difflib
import importlib
import importlib.util
import inspect
import os
import os.path as osp

from .changes import TwinError, plain

TOOLKITS = ('mmdet', 'mmseg', 'mmpretrain')


def toolkit_root(package):
    """The folder of the configs shipped with an installed toolkit, or None."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        return None
    return osp.join(list(spec.submodule_search_locations)[0], '.mim', 'configs')


def base_path(base):
    """The file of ``base``: a path, or ``'mmdet::faster_rcnn/x.py'`` in the installed
    toolkit's configs."""
    if '::' not in base:
        if not osp.isfile(base):
            raise TwinError(f'base config {base!r} does not exist')
        return base
    package, _, rel = base.partition('::')
    if package not in TOOLKITS:
        raise TwinError(
            f'base config {base!r}: the scope must be one of '
            f'{", ".join(t + "::" for t in TOOLKITS)}'
        )
    root = toolkit_root(package)
    if root is None:
        raise TwinError(f'base config {base!r}: {package} is not installed')
    path = osp.join(root, rel)
    if not osp.isfile(path):
        folder = osp.dirname(path)
        close = (
            difflib.get_close_matches(osp.basename(rel), os.listdir(folder), n=2)
            if osp.isdir(folder)
            else []
        )
        hint = f'; similar: {", ".join(close)}' if close else ''
        raise TwinError(
            f'base config {base!r}: {package} has no config {rel!r} (looked in {root}){hint}'
        )
    return path


def toolkit_name(path):
    """``'mmdet::fcos/x.py'`` for a file among an installed toolkit's configs, else None.

    Example:
        >>> toolkit_name(base_path('mmdet::fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py'))
        'mmdet::fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py'
        >>> toolkit_name('/tmp/mine.py') is None
        True
    """
    real = osp.realpath(path)
    for package in TOOLKITS:
        root = toolkit_root(package)
        if root and real.startswith(osp.realpath(root) + os.sep):
            return f'{package}::{osp.relpath(real, osp.realpath(root))}'
    return None


def load_base(base):
    """The base as MMEngine loads it; a TwinError with what MMEngine said if it cannot."""
    from mmengine.config import Config

    path = base_path(base)
    try:
        return Config.fromfile(path)
    except Exception as error:  # a broken base: one line, what Config said
        reason = ' '.join(str(error).split())[:300]
        raise TwinError(
            f'cannot load base config {base!r}: {type(error).__name__}: {reason}'
        ) from error


def toolkit_of(cfg, base):
    """``'mmdet'``, ``'mmseg'`` or ``'mmpretrain'``: the toolkit whose classes the base
    uses (its ``default_scope``, else its name's)."""
    scope = cfg.get('default_scope') or (base.partition('::')[0] if '::' in base else None)
    if scope not in TOOLKITS:
        raise TwinError(
            f'base config {base!r}: default_scope is {scope!r}, not one of '
            f'{", ".join(TOOLKITS)} (the toolkit decides the backbone classes)'
        )
    if scope == 'mmpretrain' and importlib.util.find_spec('mmpretrain') is None:
        raise TwinError('mmpretrain is not installed (pip install se_backbones[mmpretrain])')
    return scope


def class_defaults(cls):
    """Every argument default of ``cls`` and its parents' ``__init__`` (the first wins).

    Example:
        >>> from se_backbones import SEResNet
        >>> class_defaults(SEResNet)['norm_eval']
        False
    """
    defaults = {}
    for klass in cls.__mro__:
        if '__init__' not in vars(klass):
            continue
        for name, p in inspect.signature(klass.__init__).parameters.items():
            if p.default is not p.empty and p.kind is p.POSITIONAL_OR_KEYWORD:
                defaults.setdefault(name, p.default)
        if klass.__name__ == 'BaseModule':
            break
    return defaults


# The base backbones that map; the V1c/V1d variants imply their stem and downsampling.
MAPPABLE = ('ResNet', 'ResNetV1c', 'ResNetV1d', 'ResNeXt')
IMPLIED = {
    'ResNetV1c': dict(deep_stem=True, avg_down=False),
    'ResNetV1d': dict(deep_stem=True, avg_down=True),
}


def effective_backbone(scope, backbone, where='model.backbone'):
    """``(type, values)``: the base backbone's type without scope and its settings, its
    class's defaults filled in; a TwinError if its type does not map or its class has no such
    depth (the toolkit itself would refuse to build it)."""
    type_name = backbone.get('type')
    short_type = type_name.split('.')[-1] if isinstance(type_name, str) else type_name
    if short_type not in MAPPABLE:
        if isinstance(type_name, str) and type_name.startswith('se_backbones.'):
            raise TwinError(f'{where}.type is {type_name!r}: the base is already an SE model')
        raise TwinError(
            f'{where}.type is {type_name!r}, not one of {", ".join(MAPPABLE)}: '
            'only a ResNet-family backbone maps to an SE-ResNet (its stages, widths '
            'and training settings)'
        )
    cls = importlib.import_module(f'{scope}.registry').MODELS.get(type_name)
    if cls is None:
        raise TwinError(f'{where}.type {type_name!r} is not registered in {scope}')
    values = dict(class_defaults(cls), **IMPLIED.get(short_type, {}), **plain(backbone))
    depths = cls.arch_settings  # the depths its toolkit builds (a KeyError for others)
    if values.get('depth') not in depths:
        raise TwinError(
            f'{where}.depth is {values.get("depth")!r}, not one of '
            f'{", ".join(map(str, sorted(depths)))}: {type_name} in {scope} has no such depth'
        )
    return short_type, values
