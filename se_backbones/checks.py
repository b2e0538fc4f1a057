"""Argument checks that fail at build time with one line naming the argument, the value and
what is allowed: ``ValueError('<owner>: <name> must be <allowed>, got <value>')``."""

import difflib
import functools
import inspect
from collections.abc import Sequence

ACTIVATIONS = (
    'ReLU',
    'LeakyReLU',
    'PReLU',
    'ReLU6',
    'ELU',
    'Sigmoid',
    'Tanh',
    'HSigmoid',
    'HSwish',
    'Swish',
    'SiLU',
    'GELU',
)
NORMS = ('BN', 'SyncBN', 'GN', 'IN')  # LN normalises the last dim: not for conv maps


def fail(owner, name, value, allowed, error=ValueError, toolkit=None):
    """Raise ``error('<owner>: <name> must be <allowed>, got <value>')``; with ``toolkit``, the
    type mmdet/mmseg raise for the same mistake, the error is an instance of both."""
    raise error_class(error, toolkit)(f'{owner}: {name} must be {allowed}, got {value!r}')


@functools.cache
def error_class(ours, toolkit=None):
    """An exception class that is both ``ours`` and ``toolkit``, so that code written against
    the toolkit (``except AssertionError``, ``pytest.raises(KeyError)``) still catches our
    one-line errors; ``ours`` if ``toolkit`` is None or already one of its bases. Its ``str``
    is the message as given (a ``KeyError``'s would be quoted).

    Example:
        >>> error = error_class(ValueError, KeyError)('SEResNet: depth must be one of 18, 50')
        >>> isinstance(error, ValueError), isinstance(error, KeyError), str(error)
        (True, True, 'SEResNet: depth must be one of 18, 50')
    """
    if toolkit is None or issubclass(ours, toolkit):
        return ours
    try:
        return type(
            f'{ours.__name__}[{toolkit.__name__}]',
            (ours, toolkit),
            {
                '__module__': ours.__module__,
                '__str__': BaseException.__str__,
                '__reduce__': lambda self: (_rebuild_error, (ours, toolkit, self.args)),
            },
        )
    except TypeError:  # two C layouts (e.g. OSError and AttributeError): the toolkit's wins
        return toolkit


def _rebuild_error(ours, toolkit, args):
    """Unpickles an :func:`error_class` instance (the class is made at run time)."""
    return error_class(ours, toolkit)(*args)


def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def check_positive_int(owner, name, value):
    """A positive int (bools are not ints here)."""
    if not is_int(value) or value <= 0:
        fail(owner, name, value, 'a positive int')


def check_number(owner, name, value, positive=True):
    """An int or float (not a bool), positive if ``positive``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (positive and value <= 0):
        fail(owner, name, value, 'a positive number' if positive else 'a number')


def is_flag(value):
    """A bool, numpy's bool or an int 0 or 1 (mmdet and mmseg take any of them as a flag)."""
    numpy_bool = type(value).__module__ == 'numpy' and type(value).__name__ in ('bool', 'bool_')
    return isinstance(value, bool) or numpy_bool or (is_int(value) and value in (0, 1))


def check_bool(owner, name, value):
    if not is_flag(value):
        fail(owner, name, value, 'True or False', TypeError)


def check_choice(owner, name, value, choices, toolkit=None):
    if isinstance(value, bool) or value not in choices:
        fail(owner, name, value, 'one of ' + ', '.join(map(repr, choices)), toolkit=toolkit)


def check_ints(owner, name, value, length=None, minimum=1, maximum=None, toolkit=None):
    """A sequence of ints in ``[minimum, maximum]``, of ``length`` items if given."""
    ok = (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and all(is_int(v) and v >= minimum and (maximum is None or v <= maximum) for v in value)
    )
    if not ok or (length is not None and len(value) != length) or not value:
        bound = f'>= {minimum}' if maximum is None else f'in [{minimum}, {maximum}]'
        count = f'{length} ints' if length is not None else 'a non-empty sequence of ints'
        fail(owner, name, value, f'{count} {bound}', toolkit=toolkit)


def check_known_args(owner, given, allowed, hints=None):
    """Every name in ``given`` is in ``allowed``; else one TypeError naming each unknown one
    with its fix (``hints[name]``, or the closest allowed name) and listing the allowed names.

    Example:
        >>> check_known_args('SEResNet', ['se_ratios'], ['depth', 'se_ratio', 'strides'])
        ... # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        TypeError: SEResNet: unknown argument 'se_ratios' (did you mean 'se_ratio'?); allowed: ...
    """
    unknown = sorted(set(given) - set(allowed))
    if not unknown:
        return
    described = []
    for name in unknown:
        close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
        fix = (hints or {}).get(name) or (f'did you mean {close[0]!r}?' if close else None)
        described.append(f'{name!r}' + (f' ({fix})' if fix else ''))
    raise TypeError(
        f'{owner}: unknown argument{"s" if len(unknown) > 1 else ""} '
        f'{", ".join(described)}; allowed: {", ".join(sorted(allowed))}'
    )


def check_layer_cfg(owner, name, cfg, kind, optional=False):
    """A config dict whose ``type`` builds a layer of ``kind`` ('activation', 'norm' or
    'conv'), checked by building one; None if ``optional``. A norm layer is built at a width
    its config admits (a multiple of GN's ``num_groups``): whether the network's own widths
    fit is for the network to check."""
    if cfg is None and optional:
        return
    known = {'activation': ACTIVATIONS, 'norm': NORMS, 'conv': ('Conv2d',)}[kind]
    allowed = f'a dict with a registered {kind} type (e.g. {", ".join(known)})' + (
        ' or None' if optional else ''
    )
    if not isinstance(cfg, dict) or 'type' not in cfg:  # mmcv: TypeError, KeyError if no type
        fail(owner, name, cfg, allowed, TypeError, KeyError if isinstance(cfg, dict) else None)
    from mmcv.cnn import build_activation_layer, build_conv_layer, build_norm_layer

    try:
        if kind == 'activation':
            build_activation_layer(cfg)
        elif kind == 'norm':
            groups = cfg.get('num_groups')
            build_norm_layer(cfg, groups if is_int(groups) and groups > 0 else 8)
        else:
            build_conv_layer(cfg, 8, 8, 1)
    except (KeyError, TypeError, ValueError, AssertionError) as error:
        reason = _unregistered(cfg['type']) or ' '.join(str(error).split())[:200]
        raise error_class(ValueError, type(error))(
            f'{owner}: {name} must be {allowed}, got {cfg!r} ({reason})'
        ) from None


def _unregistered(layer_type):
    """Why ``layer_type`` names no layer (mmcv's own message says 'Cannot find None'), with the
    closest registered name; None if it is registered (the config failed for another reason)."""
    from mmengine.registry import MODELS

    with MODELS.switch_scope_and_registry(None) as registry:
        if not isinstance(layer_type, str) or registry.get(layer_type) is not None:
            return None
        names = set()
        while registry is not None:  # a toolkit's scope, then MMEngine's root (mmcv's layers)
            names, registry = names | set(registry.module_dict), registry.parent
        close = difflib.get_close_matches(layer_type, names, n=1, cutoff=0.6)
    return f'{layer_type!r} is not registered' + (f'; did you mean {close[0]!r}?' if close else '')


# mmdet/mmseg ResNet arguments


def per_stage(owner, name, value, num_stages, kind, toolkit=None):
    """``value`` for each stage: a scalar broadcast, or a sequence of ``num_stages`` items."""
    values = tuple(value) if isinstance(value, (list, tuple)) else (value,) * num_stages
    ok = all(is_flag(v) if kind is bool else is_int(v) and v > 0 for v in values)
    if len(values) != num_stages or not ok:
        item = 'bool' if kind is bool else 'positive int'
        fail(
            owner,
            name,
            value,
            f'one {item} or {num_stages} of them (one per stage, num_stages={num_stages})',
            toolkit=toolkit,
        )
    return tuple(map(bool, values)) if kind is bool else values


GROUPED_CONV_HINTS = {
    key: "grouped convs are se_backbones.SEResNeXt: type='se_backbones.SEResNeXt', groups=32, "
    'base_width=4'
    for key in ('groups', 'base_width')
}
GROUPED_CONV_HINTS['width_per_group'] = "mmpretrain's width_per_group is base_width here"
PLUGIN_POSITIONS = ('after_conv1', 'after_conv2', 'after_conv3')


@functools.cache
def resnet_defaults():
    """The defaults of mmseg's ``ResNet.__init__`` (our backbones' parent), by argument name."""
    from mmseg.models.backbones.resnet import ResNet

    return {
        name: p.default
        for name, p in inspect.signature(ResNet.__init__).parameters.items()
        if p.default is not inspect.Parameter.empty
    }


def check_resnet_args(owner, num_stages, last_stage_blocks, bottleneck, kwargs):
    """Check the mmdet/mmseg ResNet arguments (``kwargs``, defaults filled in) up front: the
    parent class would fail late, with an assertion or a KeyError, or not at all."""
    a = {**resnet_defaults(), **kwargs}
    for name in ('in_channels', 'base_channels'):
        check_positive_int(owner, name, a[name])
    for name in ('strides', 'dilations'):
        if name not in kwargs and len(a[name]) != num_stages:  # the 4-stage default
            fail(
                owner,
                name,
                a[name],
                f'{num_stages} ints, one per stage (the default is for 4 '
                f'stages: with num_stages={num_stages} set strides and dilations too)',
                toolkit=AssertionError,
            )
        check_ints(owner, name, a[name], length=num_stages, toolkit=AssertionError)
    check_ints(
        owner,
        'out_indices',
        a['out_indices'],
        minimum=0,
        maximum=num_stages - 1,
        toolkit=AssertionError,
    )
    if len(set(a['out_indices'])) != len(a['out_indices']):
        fail(owner, 'out_indices', a['out_indices'], 'distinct stage indices')
    check_choice(owner, 'style', a['style'], ('pytorch', 'caffe'), toolkit=AssertionError)
    for name in (
        'deep_stem',
        'avg_down',
        'norm_eval',
        'contract_dilation',
        'with_cp',
        'zero_init_residual',
    ):
        check_bool(owner, name, a[name])
    if not is_int(a['frozen_stages']) or not -1 <= a['frozen_stages'] <= num_stages:
        fail(owner, 'frozen_stages', a['frozen_stages'], f'an int in [-1, {num_stages}]')
    check_layer_cfg(owner, 'conv_cfg', a['conv_cfg'], 'conv', optional=True)
    check_layer_cfg(owner, 'norm_cfg', a['norm_cfg'], 'norm')
    if a['norm_cfg'].get('type') in ('LN', 'LayerNorm'):  # mmdet's ResNet fails in forward
        fail(
            owner,
            'norm_cfg',
            a['norm_cfg'],
            f'a norm for conv feature maps, e.g. '
            f'{", ".join(NORMS)} (LN normalises the last dimension, the width)',
        )
    check_block_options(owner, a, num_stages, last_stage_blocks, bottleneck)
    if a['pretrained'] is not None and not isinstance(a['pretrained'], str):
        fail(
            owner,
            'pretrained',
            a['pretrained'],
            "None, a checkpoint path or 'timm://<name>'",
            TypeError,
        )
    init_cfg = a['init_cfg']
    if init_cfg is not None and not (
        isinstance(init_cfg, dict)
        or isinstance(init_cfg, list)
        and all(isinstance(c, dict) for c in init_cfg)
    ):
        fail(owner, 'init_cfg', init_cfg, 'None, a dict or a list of dicts', TypeError)


def check_block_options(owner, a, num_stages, last_stage_blocks, bottleneck):
    """The rules for what a config adds to the blocks, shared by the backbones and the SE
    twin: ``dcn`` with ``stage_with_dcn`` (bottlenecks only; no ``conv_cfg`` beside it),
    ``plugins`` (bottlenecks only, a known position, per-stage flags) and ``multi_grid`` (one
    rate per block of the last stage). ``a`` holds those arguments, defaults filled in.

    Example:
        >>> check_block_options('SEResNet', dict(dcn=dict(type='DCN'),
        ...     stage_with_dcn=(False, True, True, True), conv_cfg=None, plugins=None,
        ...     multi_grid=None), 4, 2, bottleneck=False)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError[AssertionError]: SEResNet: stage_with_dcn must be all False with basic ...
    """
    with_dcn = a['stage_with_dcn']
    if not isinstance(with_dcn, (list, tuple)) or len(with_dcn) < num_stages:
        # mmdet indexes it per stage, and checks its length only with dcn set
        fail(
            owner,
            'stage_with_dcn',
            with_dcn,
            f'a sequence of {num_stages} bools (one per stage), e.g. {(True,) * num_stages}',
            toolkit=AssertionError if a['dcn'] is not None else None,
        )
    if a['dcn'] is not None:
        if not isinstance(a['dcn'], dict) or 'type' not in a['dcn']:
            fail(
                owner,
                'dcn',
                a['dcn'],
                "None or a conv config dict (e.g. dict(type='DCN', "
                'deform_groups=1, fallback_on_stride=False))',
                TypeError,
            )
        with_dcn = per_stage(
            owner, 'stage_with_dcn', with_dcn, num_stages, bool, toolkit=AssertionError
        )
        if any(with_dcn) and not bottleneck:
            fail(
                owner,
                'stage_with_dcn',
                a['stage_with_dcn'],
                'all False with basic blocks (depth 18, 34: DCN needs bottleneck blocks)',
                toolkit=AssertionError,
            )
        if any(with_dcn) and a['conv_cfg'] is not None:
            fail(
                owner,
                'conv_cfg',
                a['conv_cfg'],
                'None with DCN stages (mmdet builds their 3x3 convs from dcn)',
                toolkit=AssertionError,
            )
    if a['plugins'] is not None:
        plugins_ok = isinstance(a['plugins'], (list, tuple)) and all(
            isinstance(p, dict)
            and isinstance(p.get('cfg'), dict)
            and p.get('position') in PLUGIN_POSITIONS
            for p in a['plugins']
        )
        if not plugins_ok or not bottleneck:
            fail(
                owner,
                'plugins',
                a['plugins'],
                'None or a list of dict(cfg=dict(type=...), '
                f'position=one of {PLUGIN_POSITIONS}, stages=optional), with bottleneck '
                'blocks (depth >= 26)',
                toolkit=AssertionError,
            )
        for plugin in a['plugins']:
            if plugin.get('stages') is not None:
                per_stage(
                    owner,
                    'plugins[].stages',
                    plugin['stages'],
                    num_stages,
                    bool,
                    toolkit=AssertionError,
                )
    if a['multi_grid'] is not None:
        check_ints(owner, 'multi_grid', a['multi_grid'], length=last_stage_blocks)
