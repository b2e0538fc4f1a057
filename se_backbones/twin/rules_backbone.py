"""The backbone rules: each a pure function of a :class:`~.context.Context` that returns the
:class:`~.changes.Change` s of ``model.backbone`` (or raises a TwinError naming why the base
cannot be mapped). ``model.backbone`` is replaced (``_delete_=True``): the architecture comes
from the target, the training settings from the base."""

from ..checks import error_class
from ..resnet_checks import check_block_options, resnet_defaults
from .archs import blocks
from .base import class_defaults
from .changes import KEPT, SET, Change, TwinError

WHERE = 'model.backbone'
# Kept from the base: how the backbone is trained and where it samples, not what it is.
KEEP = (
    'num_stages',
    'strides',
    'dilations',
    'out_indices',
    'frozen_stages',
    'conv_cfg',
    'norm_cfg',
    'norm_eval',
    'contract_dilation',
    'multi_grid',
    'dcn',
    'stage_with_dcn',
    'plugins',
    'with_cp',
    'zero_init_residual',
    'in_channels',
)
# Taken from the target architecture (the weights decide them), or replaced.
FROM_ARCH = (
    'depth',
    'style',
    'deep_stem',
    'avg_down',
    'stem_channels',
    'base_channels',
    'groups',
    'base_width',
    'width_per_group',
    'expansion',
)
REPLACED = ('type', 'init_cfg', 'pretrained', '_scope_')
# Base arguments without a counterpart that are harmless at these values.
DROPPABLE = {'drop_path_rate': (0, 0.0)}
BATCH_NORMS = ('BN', 'SyncBN', 'BN2d', 'MMSyncBN', 'TorchSyncBN')


def our_defaults(ctx):
    from ..registry import MODELS

    return class_defaults(MODELS.get(ctx.target_cfg()['type']))


def refuse_c4_layout(ctx):
    """A C4 model runs a plain ResNet stage of its own on the backbone's output: refused."""
    roi = ctx.model.get('roi_head') or {}
    if isinstance(roi, dict) and roi.get('shared_head'):
        raise TwinError(
            f'model.roi_head.shared_head is {roi["shared_head"].get("type")!r}, a plain ResNet '
            "stage run on the backbone's last output (C4 layout): its layers and weights are the "
            "base ResNet's; not mapped (use an FPN config)"
        )
    return []


def architecture(ctx):
    """Type, depth, style, stem, groups and SE layer from the target; shown where they differ
    from the base's."""
    base_type, old = ctx.old_backbone()
    explicit, target, ours = ctx.backbone, ctx.target_cfg(), our_defaults(ctx)
    written = dict(type=target.pop('type'), depth=target.pop('depth'))
    written.update({k: target.pop(k) for k in ('groups', 'base_width') if k in target})
    written.update(target, style=target.get('style', 'pytorch'))
    why = f"{ctx.target.timm_arch}'s architecture: the weights decide it"
    ref = {**ours, 'groups': 1, **written, 'expansion': blocks(ctx.target.timm_arch)[1]}
    shown = {'type': (explicit.get('type'), f'{ctx.target.arch}, {why}')}
    shown.update(
        {
            k: (old.get(k), why)
            for k in ('depth', 'style', 'deep_stem', 'avg_down')
            if old.get(k) != ref.get(k)
        }
    )
    if old.get('deep_stem') and ref.get('deep_stem'):
        stems = [b.get('stem_channels') or b.get('base_channels', 64) for b in (old, ref)]
        if stems[0] != stems[1]:
            shown['stem_channels'] = (stems[0], why)
    shown.update(
        {
            k: (explicit[k], why)
            for k in ('base_channels', 'expansion')
            if k in explicit and explicit[k] != ref.get(k)
        }
    )
    if base_type != 'ResNeXt' and 'groups' in written:
        shown['groups'] = (1, why)
    if base_type == 'ResNeXt':
        grouped = {k: old[k] for k in ('groups', 'base_width', 'width_per_group') if k in old}
        if 'groups' not in written:
            shown['groups'] = (
                grouped.get('groups'),
                f'{why} ({ctx.target.arch} has no grouped convs)',
            )
        for key, value in grouped.items():
            other = 'base_width' if key == 'width_per_group' else key
            if 'groups' in written and written.get(other) != value:
                shown[key] = (value, why)
    shown.update(
        {
            k: (ours.get(k), why)
            for k in ('stem_pool_cfg', 'se_cfg', 'act_before_se')
            if k in written
        }
    )  # the base's layers are our defaults' (ResNet's, no SE)
    changes = [Change(f'{WHERE}._delete_', None, True, 'the base backbone is replaced', SET)]
    for key, value in written.items():
        if key in shown:
            before, reason = shown.pop(key)
            changes.append(Change(f'{WHERE}.{key}', before, value, reason))
        else:
            changes.append(Change(f'{WHERE}.{key}', old.get(key), value, why, SET))
    changes += [
        Change(f'{WHERE}.{k}', before, ref.get(k), reason, write=False)
        for k, (before, reason) in shown.items()
    ]
    return changes


def kept_values(ctx):
    """The base's training settings of the backbone that the twin writes: those the base sets,
    and class defaults that differ from ours."""
    _, old = ctx.old_backbone()
    ours = our_defaults(ctx)
    return {k: old[k] for k in KEEP if k in old and (k in ctx.backbone or old[k] != ours.get(k))}


def kept(ctx):
    """The base's training settings (:data:`KEEP`); a base argument that is neither kept nor
    decided by the architecture is refused."""
    explicit = ctx.backbone
    unknown = [
        k
        for k in explicit
        if k not in KEEP + FROM_ARCH + REPLACED
        and not (k in DROPPABLE and explicit[k] in DROPPABLE[k])
    ]
    if unknown:
        raise TwinError(
            f'{WHERE}: {", ".join(f"{k}={explicit[k]!r}" for k in unknown)} has no counterpart '
            f'in se_backbones.{ctx.target_cfg()["type"].split(".")[-1]}; not mapped'
        )
    return [
        Change(f'{WHERE}.{k}', v, v, 'kept from the base', KEPT)
        for k, v in kept_values(ctx).items()
    ]


def kept_fit_target(ctx):
    """The kept settings must suit the target's blocks (the DCN, plugin and multi_grid rules
    of :func:`~se_backbones.resnet_checks.check_block_options`) and, with timm weights, their
    layout: 4 stages, RGB input, BatchNorm, plain convs."""
    cls, expansion, counts = blocks(ctx.target.timm_arch)
    a = {**resnet_defaults(), **our_defaults(ctx), **kept_values(ctx)}
    num_stages, owner = a['num_stages'], f'{WHERE} ({ctx.target.arch})'
    with_dcn = a['dcn'] is not None and any(a['stage_with_dcn'])
    if cls == 'SENet154' and (with_dcn or a['plugins']):
        raise TwinError(f'{owner}: dcn and plugins are not supported by SENet-154 blocks')
    try:
        check_block_options(owner, a, num_stages, counts[min(num_stages, 4) - 1], expansion > 1)
    except (TypeError, ValueError) as error:  # a TwinError of the type the toolkit raises
        raise error_class(TwinError, type(error))(str(error)) from None
    if not ctx.target.pretrained:
        return []
    untrained = f'arch={ctx.target.arch} without timm and checkpoint maps it untrained'
    norm = (a['norm_cfg'] or {}).get('type', 'BN')
    conv = (a['conv_cfg'] or {}).get('type', 'Conv2d')
    for bad, what in (
        (num_stages != 4, f"num_stages={num_stages}; timm's weights have 4 stages"),
        (
            a['in_channels'] != 3,
            f"in_channels={a['in_channels']}; timm's weights take 3-channel images",
        ),
        (
            norm not in BATCH_NORMS,
            f"norm_cfg type {norm!r}; timm's weights are "
            'BatchNorm (weights and running statistics)',
        ),
        (
            conv not in ('Conv', 'Conv2d'),
            f"conv_cfg type {conv!r}; timm's weights were trained with plain convolutions",
        ),
    ):
        if bad:
            raise TwinError(f'{WHERE}: {what}: {untrained}')
    return []
