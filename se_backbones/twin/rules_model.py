"""The model rules besides the backbone and the widths: the data preprocessor's
normalisation (timm's) and checkpoints of the plain model that would overwrite the SE
weights. Each is a pure function of a :class:`~.context.Context` returning Changes."""

from .archs import normalisation
from .changes import Change, TwinError, same

# Data preprocessors' colour-order key per toolkit, when the base does not name one.
RGB_KEY = {'mmdet': 'bgr_to_rgb', 'mmseg': 'bgr_to_rgb', 'mmpretrain': 'to_rgb'}
PLAIN_MODEL = (
    'a checkpoint of the base model (plain ResNet backbone): it would overwrite the SE weights'
)


def preprocessor(ctx):
    """mean/std of timm's ``pretrained_cfg`` (x 255) and RGB order, in
    ``model.data_preprocessor`` and a top-level ``data_preprocessor``, with timm weights."""
    t = ctx.target
    if not t.pretrained:
        return [Change.note("untrained: the data preprocessor keeps the base's normalisation")]
    mean, std = normalisation(t.model_name)
    reason = f'timm {t.model_name} pretrained_cfg mean/std x 255'
    changes, found = [], False
    for where, holder in (
        ('model.data_preprocessor', ctx.model.get('data_preprocessor')),
        ('data_preprocessor', ctx.cfg.get('data_preprocessor')),
    ):
        if not isinstance(holder, dict):
            continue
        found = True
        key = next((k for k in ('bgr_to_rgb', 'to_rgb') if k in holder), RGB_KEY[ctx.scope])
        for name, value, why in (
            ('mean', mean, reason),
            ('std', std, reason),
            (key, True, "timm's weights take RGB input"),
        ):
            if not same(holder.get(name), value):
                changes.append(Change(f'{where}.{name}', holder.get(name), value, why))
    if not found:
        raise TwinError(
            'the base has no data_preprocessor (model.data_preprocessor or a '
            "top-level one) to set the weights' normalisation in; not mapped"
        )
    return changes


def plain_model_weights(ctx):
    """A model-level ``pretrained`` (mmseg bases), a ``Pretrained`` model ``init_cfg`` and
    ``load_from``: None."""
    model, changes = ctx.model, []
    if model.get('pretrained'):
        changes.append(
            Change(
                'model.pretrained',
                model['pretrained'],
                None,
                'plain-ResNet weights the model would hand to the backbone over its init_cfg',
            )
        )
    init = model.get('init_cfg')
    if isinstance(init, dict) and init.get('type') == 'Pretrained':
        changes.append(Change('model.init_cfg', init, None, PLAIN_MODEL))
    if ctx.cfg.get('load_from'):
        changes.append(Change('load_from', ctx.cfg['load_from'], None, PLAIN_MODEL))
    return changes
