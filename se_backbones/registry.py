"""Registries of se_backbones, children of MMEngine's roots.

``MODELS`` has scope ``se_backbones`` and MMEngine's root ``MODELS`` as parent, so a config of
any OpenMMLab toolkit (mmdet, mmseg, mmpretrain) can name ``type='se_backbones.SEResNet'``: the
toolkit's registry goes up to the root and down to this child by the scope prefix.

Always use the scoped name. mmpretrain registers its own ``SEResNet`` and ``SEResNeXt`` without
a prefix, so inside an mmpretrain config a bare ``type='SEResNet'`` builds mmpretrain's model,
not ours (and mmdet/mmseg configs would fail to find a bare ``SEResNet`` at all).

``WEIGHT_INITIALIZERS`` holds ``TimmPretrained``, for ``init_cfg=dict(type=
'se_backbones.TimmPretrained', model_name=...)``; ``HOOKS`` holds ``RNGStateHook``.
"""
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import Registry

MODELS = Registry(
    'model',
    parent=MMENGINE_MODELS,
    scope='se_backbones',
    locations=['se_backbones.layers', 'se_backbones.backbones'])

WEIGHT_INITIALIZERS = Registry(
    'weight initializer',
    parent=MMENGINE_WEIGHT_INITIALIZERS,
    scope='se_backbones',
    locations=['se_backbones.weights'])

HOOKS = Registry('hook', parent=MMENGINE_HOOKS, scope='se_backbones',
                 locations=['se_backbones.hooks'])
