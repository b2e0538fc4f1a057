"""The argument handling :class:`~se_backbones.backbones.SEResNet` adds to mmseg's ``ResNet``:
the ``timm://`` shorthand, the deep stem's widths, one-line errors for what fails only while
the layers are built."""

import contextlib
import inspect

from ..checks import check_ints, check_known_args, check_positive_int, fail
from ..layers import ChannelAttention
from .se_blocks import PluginBuildError, attention_class

TIMM_PREFIX = 'timm://'


def timm_shorthand(owner, pretrained, init_cfg):
    """``pretrained='timm://<name>'`` as ``init_cfg=dict(type='se_backbones.TimmPretrained',
    model_name=<name>)``; returns ``(pretrained, init_cfg)``."""
    if isinstance(pretrained, str) and pretrained.startswith(TIMM_PREFIX):
        if init_cfg is not None:
            raise ValueError(f'{owner}: set pretrained or init_cfg, not both')
        return None, dict(
            type='se_backbones.TimmPretrained', model_name=pretrained[len(TIMM_PREFIX) :]
        )
    return pretrained, init_cfg


def stem_widths(owner, stem_channels, base_channels, deep_stem):
    """The three deep-stem conv widths (the last one is the plain stem's width): given, or
    ``(c // 2, c // 2, c)`` for one width ``c`` (default: ``base_channels``)."""
    if stem_channels is None:
        stem_channels = base_channels
    if isinstance(stem_channels, (list, tuple)):
        if not deep_stem:
            fail(
                owner,
                'stem_channels',
                stem_channels,
                'one positive int (3 only with deep_stem=True)',
            )
        check_ints(owner, 'stem_channels', stem_channels, length=3)
        return tuple(stem_channels)
    check_positive_int(owner, 'stem_channels', stem_channels)
    if deep_stem and stem_channels < 2:
        fail(owner, 'stem_channels', stem_channels, 'at least 2 with deep_stem=True')
    return stem_channels // 2, stem_channels // 2, stem_channels


@contextlib.contextmanager
def one_line_build_errors(owner, kwargs):
    """What fails only while the parent builds the layers, as our one-line errors: a plugin
    that does not build, a GroupNorm whose num_groups does not divide a width."""
    try:
        yield
    except PluginBuildError as error:
        fail(
            owner,
            'plugins',
            kwargs.get('plugins'),
            f'plugin configs that build in every block with distinct names (cfg postfix) ({error})',
            toolkit=type(error.__cause__),
        )
    except ValueError as error:  # torch's GroupNorm
        if 'divisible by num_groups' not in str(error):
            raise
        fail(
            owner,
            'norm_cfg',
            kwargs.get('norm_cfg'),
            f'a norm whose num_groups divides every layer width ({error})',
        )


def attention_type(owner, se_cfg):
    """The attention class ``se_cfg['type']`` names (default ``SELayer``) and ``se_cfg`` as a
    new dict, checked: a :class:`~se_backbones.layers.ChannelAttention` registered in
    ``se_backbones.MODELS``, and ``se_cfg``'s other keys among its arguments."""
    if se_cfg is not None and not isinstance(se_cfg, dict):
        allowed = "None or a dict: the attention layer's type (default SELayer) and arguments"
        fail(owner, 'se_cfg', se_cfg, allowed, TypeError)
    se_cfg = dict(se_cfg or {})
    for key in ('channels', 'ratio'):
        if key in se_cfg:
            allowed = f'free of {key!r} (it comes from the block width and se_ratio)'
            fail(owner, 'se_cfg', se_cfg, allowed)
    allowed = 'a ChannelAttention subclass registered in se_backbones.MODELS'
    try:
        attention = attention_class(se_cfg.get('type', 'SELayer'))
    except KeyError as error:  # a close miss: the registry's did-you-mean
        fail(
            owner,
            "se_cfg['type']",
            se_cfg.get('type'),
            f'{allowed} ({error.args[0]})',
            toolkit=KeyError,
        )
    if not (isinstance(attention, type) and issubclass(attention, ChannelAttention)):
        fail(
            owner,
            "se_cfg['type']",
            se_cfg.get('type'),
            f'{allowed}: SELayer, ECALayer or one of your own (docs/extending.md)',
        )
    takes = [
        p
        for p in inspect.signature(attention.__init__).parameters
        if p not in ('self', 'channels', 'ratio', 'args', 'kwargs')
    ]
    check_known_args(
        f'{owner}: se_cfg of {attention.__name__}', [k for k in se_cfg if k != 'type'], takes
    )
    return attention, se_cfg
