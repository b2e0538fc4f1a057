"""Registries of se_backbones, children of MMEngine's roots.

``MODELS`` has scope ``se_backbones`` and MMEngine's root ``MODELS`` as parent, so a config of
any OpenMMLab toolkit (mmdet, mmseg, mmpretrain) can name ``type='se_backbones.SEResNet'``: the
toolkit's registry goes up to the root and down to this child by the scope prefix.

Prefer the scoped name. A bare ``type='SEResNet'`` (or ``SEResNeXt``, ``SENet154``) builds
ours in mmdet and mmseg configs too (:func:`register_bare_names` adds them to those toolkits'
registries, where no class of that name exists), but in an mmpretrain config it builds
mmpretrain's own ``SEResNet``/``SEResNeXt``, which lack most of our arguments.

``WEIGHT_INITIALIZERS`` holds ``TimmPretrained``, for ``init_cfg=dict(type=
'se_backbones.TimmPretrained', model_name=...)``; ``HOOKS`` holds ``RNGStateHook``.
"""

from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import Registry


class _Registry(Registry):
    """A Registry whose misses on a name close to one of its own raise a did-you-mean KeyError
    (``type='se_backbones.SEResnet'``); every other lookup is MMEngine's, None on a miss."""

    def get(self, key):
        found = super().get(key)
        if found is None and isinstance(key, str) and '.' not in key:
            import difflib

            names = {name.lower(): name for name in self._module_dict}  # case first
            close = difflib.get_close_matches(key.lower(), names, n=1, cutoff=0.75)
            if close:
                raise KeyError(
                    f'se_backbones: no {self.name} {key!r}; did you mean '
                    f'{self.scope}.{names[close[0]]}?'
                )
        return found


MODELS = _Registry(
    'model',
    parent=MMENGINE_MODELS,
    scope='se_backbones',
    locations=['se_backbones.layers', 'se_backbones.backbones'],
)

WEIGHT_INITIALIZERS = _Registry(
    'weight initializer',
    parent=MMENGINE_WEIGHT_INITIALIZERS,
    scope='se_backbones',
    locations=['se_backbones.weights'],
)

HOOKS = _Registry(
    'hook', parent=MMENGINE_HOOKS, scope='se_backbones', locations=['se_backbones.engine.hooks']
)


BARE_NAME_TOOLKITS = ('mmdet', 'mmseg')


def register_bare_names(classes):
    """Register ``classes`` under their bare names in mmdet's and mmseg's ``MODELS`` (children
    of MMEngine's root, scopes ``mmdet`` and ``mmseg``), so that ``type='SEResNet'`` in their
    configs builds ours. A name the toolkit already has is left to it; a toolkit that is not
    installed is skipped. Returns the ``(scope, name)`` pairs registered."""
    import importlib

    registered = []
    for toolkit in BARE_NAME_TOOLKITS:
        try:
            registry = importlib.import_module(f'{toolkit}.registry').MODELS
        except ImportError:
            continue
        for cls in classes:
            if registry.module_dict.get(cls.__name__, cls) is cls:
                registry.register_module(name=cls.__name__, module=cls, force=True)
                registered.append((toolkit, cls.__name__))
    return registered
