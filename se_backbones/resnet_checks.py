"""The mmdet/mmseg ``ResNet`` argument rules (depth, stages, strides, DCN, plugins, ...), with
the one-line errors of :mod:`se_backbones.checks`; shared by the backbones and the SE twin."""

import functools
import inspect

from .checks import (
    NORMS,
    check_bool,
    check_choice,
    check_ints,
    check_layer_cfg,
    check_positive_int,
    fail,
    is_int,
    per_stage,
)

GROUPED_CONV_HINTS = {
    key: "grouped convs are se_backbones.SEResNeXt: type='se_backbones.SEResNeXt', groups=32, "
    'base_width=4'
    for key in ('groups', 'base_width')
}
GROUPED_CONV_HINTS['width_per_group'] = "mmpretrain's width_per_group is base_width here"
PLUGIN_POSITIONS = ('after_conv1', 'after_conv2', 'after_conv3')
DCN_CFG = (
    "None or a conv config dict (e.g. dict(type='DCN', deform_groups=1, fallback_on_stride=False))"
)


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


def plugins_error(plugins, bottleneck):
    """The type of error mmdet's ``ResNet`` raises for ``plugins`` (not None), or None if they
    are well formed. mmdet meets a fault in this order: its stage loop iterates the list and
    copies each item (not iterable: ``TypeError``; an item that is not a dict:
    ``AttributeError``), a basic block refuses plugins (``AssertionError``), a bottleneck reads
    each ``position`` (missing: ``KeyError``) and checks it (``AssertionError``), then reads
    each ``cfg`` (missing: ``KeyError``), copies it (not a dict: ``AttributeError``) and builds
    it (without a ``type``: ``KeyError``).

    Example:
        >>> plugins_error([dict(cfg=dict(type='ContextBlock'), position='after_conv3')], True)
        >>> plugins_error([dict(position='after_conv3')], True).__name__
        'KeyError'
        >>> plugins_error('ContextBlock', True).__name__
        'AttributeError'
    """
    if not isinstance(plugins, (list, tuple)):
        return AttributeError if hasattr(plugins, '__iter__') else TypeError
    if not all(isinstance(p, dict) for p in plugins):
        return AttributeError
    if not bottleneck:
        return AssertionError
    if any('position' not in p for p in plugins):
        return KeyError
    if any(p['position'] not in PLUGIN_POSITIONS for p in plugins):
        return AssertionError
    if any('cfg' not in p for p in plugins):
        return KeyError
    if any(not isinstance(p['cfg'], dict) for p in plugins):
        return AttributeError
    if any('type' not in p['cfg'] for p in plugins):
        return KeyError
    return None


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
            toolkit=AssertionError
            if a['dcn'] is not None
            else IndexError  # what mmdet's stage loop raises
            if isinstance(with_dcn, (list, tuple))
            else TypeError,
        )
    if a['dcn'] is not None:
        with_dcn = per_stage(
            owner, 'stage_with_dcn', with_dcn, num_stages, bool, toolkit=AssertionError
        )
        if any(with_dcn):  # mmdet reads dcn for its DCN stages only, in this order
            if not bottleneck:
                fail(
                    owner,
                    'stage_with_dcn',
                    a['stage_with_dcn'],
                    'all False with basic blocks (depth 18, 34: DCN needs bottleneck blocks)',
                    toolkit=AssertionError,
                )
            if not isinstance(a['dcn'], dict):
                fail(owner, 'dcn', a['dcn'], DCN_CFG, TypeError, toolkit=AssertionError)
            if a['conv_cfg'] is not None:
                fail(
                    owner,
                    'conv_cfg',
                    a['conv_cfg'],
                    'None with DCN stages (mmdet builds their 3x3 convs from dcn)',
                    toolkit=AssertionError,
                )
            if 'type' not in a['dcn']:
                fail(owner, 'dcn', a['dcn'], DCN_CFG, TypeError, toolkit=KeyError)
    if a['plugins'] is not None:
        toolkit = plugins_error(a['plugins'], bottleneck)
        if toolkit is not None:
            fail(
                owner,
                'plugins',
                a['plugins'],
                'None or a list of dict(cfg=dict(type=...), '
                f'position=one of {PLUGIN_POSITIONS}, stages=optional), with bottleneck '
                'blocks (depth >= 26)',
                toolkit=toolkit,
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
