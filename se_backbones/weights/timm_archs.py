"""Which timm SE-ResNet / ECA-ResNet architectures our backbones reproduce exactly, and with
what config."""

import copy

_D = dict(deep_stem=True, avg_down=True)  # timm 'd': 32-32-64 deep stem, avg-pool downsample
_T = dict(deep_stem=True, avg_down=True, stem_channels=(24, 32, 64))  # 't': tiered stem
# Cadene's Caffe ports (timm legacy_*): stem max-pool without padding in ceil mode, SE width
# channels // 16 without rounding to 8, stride on the first 1x1 conv of SE-ResNet bottlenecks,
# ReLU before SE in the basic block.
_LEGACY = dict(
    stem_pool_cfg=dict(kernel_size=3, stride=2, padding=0, ceil_mode=True), se_cfg=dict(divisor=1)
)
_X32x4d = dict(groups=32, base_width=4)
_ECA = dict(se_cfg=dict(type='ECALayer'))  # timm attn_layer='eca': adaptive kernel, no ratio

TIMM_ARCHS = {
    'seresnet18': ('SEResNet', dict(depth=18)),
    'seresnet34': ('SEResNet', dict(depth=34)),
    'seresnet50': ('SEResNet', dict(depth=50)),
    'seresnet50t': ('SEResNet', dict(depth=50, **_T)),
    'seresnet101': ('SEResNet', dict(depth=101)),
    'seresnet152': ('SEResNet', dict(depth=152)),
    'seresnet152d': ('SEResNet', dict(depth=152, **_D)),
    'seresnet200d': ('SEResNet', dict(depth=200, **_D)),
    'seresnet269d': ('SEResNet', dict(depth=269, **_D)),
    'seresnext26d_32x4d': ('SEResNeXt', dict(depth=26, **_X32x4d, **_D)),
    'seresnext26t_32x4d': ('SEResNeXt', dict(depth=26, **_X32x4d, **_T)),
    'seresnext50_32x4d': ('SEResNeXt', dict(depth=50, **_X32x4d)),
    'seresnext101_32x4d': ('SEResNeXt', dict(depth=101, **_X32x4d)),
    'seresnext101_32x8d': ('SEResNeXt', dict(depth=101, groups=32, base_width=8)),
    'seresnext101d_32x8d': ('SEResNeXt', dict(depth=101, groups=32, base_width=8, **_D)),
    'seresnext101_64x4d': ('SEResNeXt', dict(depth=101, groups=64, base_width=4)),
    'legacy_seresnet18': ('SEResNet', dict(depth=18, act_before_se=True, **_LEGACY)),
    'legacy_seresnet34': ('SEResNet', dict(depth=34, act_before_se=True, **_LEGACY)),
    'legacy_seresnet50': ('SEResNet', dict(depth=50, style='caffe', **_LEGACY)),
    'legacy_seresnet101': ('SEResNet', dict(depth=101, style='caffe', **_LEGACY)),
    'legacy_seresnet152': ('SEResNet', dict(depth=152, style='caffe', **_LEGACY)),
    'legacy_seresnext26_32x4d': ('SEResNeXt', dict(depth=26, **_X32x4d, **_LEGACY)),
    'legacy_seresnext50_32x4d': ('SEResNeXt', dict(depth=50, **_X32x4d, **_LEGACY)),
    'legacy_seresnext101_32x4d': ('SEResNeXt', dict(depth=101, **_X32x4d, **_LEGACY)),
    'legacy_senet154': ('SENet154', dict(depth=154, deep_stem=True)),
    # timm's ResNet-family re-implementation: padded stem pool, SE width rounded to 8
    'senet154': (
        'SENet154',
        dict(
            depth=154,
            deep_stem=True,
            se_cfg={},
            stem_pool_cfg=dict(kernel_size=3, stride=2, padding=1),
        ),
    ),
    'ecaresnet26t': ('SEResNet', dict(depth=26, **_T, **_ECA)),
    'ecaresnet50d': ('SEResNet', dict(depth=50, **_D, **_ECA)),
    'ecaresnet50t': ('SEResNet', dict(depth=50, **_T, **_ECA)),
    'ecaresnet101d': ('SEResNet', dict(depth=101, **_D, **_ECA)),
    'ecaresnet200d': ('SEResNet', dict(depth=200, **_D, **_ECA)),
    'ecaresnet269d': ('SEResNet', dict(depth=269, **_D, **_ECA)),
}


def timm_arch(model_name):
    """The architecture part of a timm name: ``'seresnet50.a1_in1k'`` -> ``'seresnet50'``.

    Raises:
        ValueError: if it is not one of :data:`TIMM_ARCHS`, naming it and the supported ones.
    """
    if not isinstance(model_name, str):
        raise TypeError(f'model_name must be a timm model name (str), got {model_name!r}')
    arch = model_name.split('.', 1)[0]
    if arch not in TIMM_ARCHS:
        raise ValueError(
            f'timm model {model_name!r} is not an SE-ResNet that se_backbones '
            f'reproduces; supported: {", ".join(TIMM_ARCHS)}'
        )
    return arch


def timm_stem(model_name):
    """How timm lays out the stem's keys, from the table: ``'plain'`` (``conv1``/``bn1``),
    ``'deep'`` (3-conv ``conv1.N``), and for Cadene's ports (the ``legacy_*`` models, timm's
    ``SENet`` class, whose stem is ``layer0``) ``'legacy'`` or ``'legacy_deep'``.

    Example:
        >>> [timm_stem(name) for name in ('seresnet50', 'seresnet152d', 'legacy_seresnet18',
        ...                               'legacy_senet154')]
        ['plain', 'deep', 'legacy', 'legacy_deep']
    """
    arch = timm_arch(model_name)
    deep = bool(TIMM_ARCHS[arch][1].get('deep_stem'))
    if arch.startswith('legacy_'):
        return 'legacy_deep' if deep else 'legacy'
    return 'deep' if deep else 'plain'


def backbone_cfg_from_timm(model_name):
    """The backbone config that reproduces a timm SE-ResNet / SE-ResNeXt exactly.

    Args:
        model_name (str): A timm name, with or without a pretrained tag
            (``'seresnet50'``, ``'seresnet50.a1_in1k'``, ``'legacy_seresnext50_32x4d'``).

    Returns:
        dict: ``type`` (``'se_backbones.SEResNet'`` or ``'se_backbones.SEResNeXt'``) and the
        architecture arguments; add ``out_indices``, ``frozen_stages``, ``norm_eval``, ... freely.

    Example:
        >>> backbone_cfg_from_timm('seresnext26t_32x4d.bt_in1k')  # doctest: +NORMALIZE_WHITESPACE
        {'type': 'se_backbones.SEResNeXt', 'depth': 26, 'groups': 32, 'base_width': 4,
         'deep_stem': True, 'avg_down': True, 'stem_channels': (24, 32, 64)}
    """
    cls, cfg = TIMM_ARCHS[timm_arch(model_name)]
    return dict(type=f'se_backbones.{cls}', **copy.deepcopy(cfg))


def resnet_widths(depth, base_channels=64, expansion=None, num_stages=4):
    """Output channels of each stage of a ResNet-family backbone (mmdet's, mmseg's,
    mmpretrain's or ours): basic blocks (depth 18, 34) keep their width, bottlenecks expand it
    4 times.

    Example:
        >>> resnet_widths(18), resnet_widths(50, num_stages=3)
        ([64, 128, 256, 512], [256, 512, 1024])
    """
    if expansion is None:
        expansion = 1 if depth in (18, 34) else 4
    return [base_channels * 2**i * expansion for i in range(num_stages)]


def stage_widths(model_name, num_stages=4):
    """Output channels of each stage of the backbone of a timm SE architecture.

    Example:
        >>> stage_widths('legacy_seresnet18.in1k'), stage_widths('seresnext101_64x4d')
        ([64, 128, 256, 512], [256, 512, 1024, 2048])
    """
    cfg = backbone_cfg_from_timm(model_name)
    return resnet_widths(cfg['depth'], cfg.get('base_channels', 64), num_stages=num_stages)


def classifier_cfg(backbone, num_classes):
    """An mmpretrain ``ImageClassifier`` config around ``backbone`` (e.g.
    ``backbone_cfg_from_timm(name)``): global pooling and a linear head, as timm's classifier,
    so that a ``convert_timm_state_dict(..., with_classifier=True)`` state dict loads into it."""
    in_channels = resnet_widths(backbone['depth'], backbone.get('base_channels', 64))[-1]
    return dict(
        type='ImageClassifier',
        backbone=dict(backbone, out_indices=(3,)),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=num_classes, in_channels=in_channels),
    )
