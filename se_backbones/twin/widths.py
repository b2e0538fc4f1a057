"""Where the backbone's widths go when the twin changes them: one table per toolkit, of the
model parts that take them (``neck``, heads) in the order features flow. Each entry maps a
part to ``(changes, ends)``; ``ends``: the backbone's features stop there (a neck with widths
of its own), later parts are not touched."""

from typing import NamedTuple

from .archs import with_widths
from .changes import Change, TwinError

# mmseg necks whose outputs have their own width; mmpretrain necks that keep it.
SEG_WIDTH_NECKS = ('FPN',)
POOLING_NECKS = ('GlobalAveragePooling', 'GeneralizedMeanPooling')
SCALED = "a single-input head's width scales with its input, as in mmseg's R18 configs"


class Widths(NamedTuple):
    """The backbone's widths at its out_indices, ``old`` and ``new``; ``reason`` for the
    changes; ``hint``: architectures that keep the old widths."""

    old: list
    new: list
    reason: str
    hint: str

    def refuse(self, what):
        raise TwinError(
            f"{what}; not mapped (an architecture with the base's widths keeps them: {self.hint})"
        )


def in_channels(part, key, w):
    """A part whose ``in_channels`` is the backbone's widths (a list) or its last one."""
    value = part.get('in_channels')
    if isinstance(value, (list, tuple)) and list(value) == w.old:
        new = type(value)(w.new)
    elif isinstance(value, int) and value == w.old[-1]:
        new = w.new[-1]
    elif value is None:
        return w.refuse(
            f'{key} ({part.get("type")}) has no in_channels: which later module '
            f"takes the backbone's widths {w.old} is not known"
        )
    else:
        return w.refuse(
            f'{key}.in_channels={value!r} ({part.get("type")}) is not the base '
            f"backbone's output widths {w.old}"
        )
    return dict(part, in_channels=new), [Change(f'{key}.in_channels', value, new, w.reason)]


def each(mapper, part, key, w):
    """``mapper`` on a part, or on each of a list of parts (the list written whole)."""
    if not isinstance(part, list):
        return mapper(part, key, w)[1]
    done = [
        mapper(p, f'{key}[{i}]', w) if i == 0 or mapper is seg_head else ({**p}, [])
        for i, p in enumerate(part)
    ]
    value = [p for p, _ in done]
    return [Change(c.key, c.old, c.new, c.reason, write=(key, value)) for _, cs in done for c in cs]


def neck(part, key, w):
    """mmdet's necks (FPN, ChannelMapper, DilatedEncoder, ...) and heads that take every
    backbone output (MaskFormer, Mask2Former, its video tracking head): their own widths
    follow."""
    return each(in_channels, part, key, w), True


def seg_neck(part, key, w):
    first = part[0] if isinstance(part, list) else part
    if first.get('type') not in SEG_WIDTH_NECKS:
        w.refuse(
            f"model.neck type {first.get('type')!r}: its outputs may carry the backbone's "
            f'widths on to the heads (mapped necks: {", ".join(SEG_WIDTH_NECKS)})'
        )
    return neck(part, key, w)


def seg_head(head, key, w, scale=True):
    """An mmseg head reading backbone outputs ``in_index``: its ``in_channels``; for
    single-input heads also ``channels`` (and DeepLabV3+'s c1 widths) scaled as mmseg's R18
    configs scale them; K-Net's in its ``kernel_generate_head`` (whose ``channels`` the kernel
    update heads share: kept)."""
    inner = head.get('kernel_generate_head')
    if head.get('in_channels') is None and isinstance(inner, dict):
        new, changes = seg_head(inner, f'{key}.kernel_generate_head', w, scale=False)
        return dict(head, kernel_generate_head=new), changes
    index, value = head.get('in_index', -1), head.get('in_channels')
    old, new = w.old, w.new
    update, pairs = {}, []
    if (
        isinstance(value, int)
        and isinstance(index, int)
        and -len(old) <= index < len(old)
        and value == old[index]
    ):
        update['in_channels'] = new[index]
        pairs.append(('channels', new[index] / value))
        if head.get('c1_in_channels') == old[0]:
            update['c1_in_channels'] = new[0]
            pairs.append(('c1_channels', new[0] / old[0]))
    elif isinstance(value, (list, tuple)) and list(value) == old:
        update['in_channels'] = type(value)(new)  # all outputs (Mask2Former)
    elif (
        isinstance(value, (list, tuple))
        and isinstance(index, (list, tuple))
        and all(-len(old) <= i < len(old) for i in index)
        and [old[i] for i in index] == list(value)
    ):
        update['in_channels'] = type(value)(new[i] for i in index)
    elif value is None:
        w.refuse(
            f'{key} ({head.get("type")}) has no in_channels of its own: which of its parts '
            f"takes the backbone's widths {old} is not known"
        )
    else:
        w.refuse(
            f'{key} ({head.get("type")}) takes in_channels={value!r} from backbone outputs '
            f"{index!r}, which are not the base backbone's widths {old} there"
        )
    if 'c1_in_channels' in head and 'c1_in_channels' not in update:
        w.refuse(
            f"{key}.c1_in_channels={head['c1_in_channels']!r} is not the base backbone's "
            f'first width {old[0]}'
        )
    for name, factor in pairs if scale else []:
        if isinstance(head.get(name), int) and (head[name] * factor).is_integer():
            update[name] = int(head[name] * factor)
    changes = [
        Change(
            f'{key}.{name}', head.get(name), v, w.reason if name.endswith('in_channels') else SCALED
        )
        for name, v in update.items()
    ]
    return dict(head, **update), changes


def seg_heads(part, key, w):
    return each(seg_head, part, key, w), False


def pooling_neck(part, key, w):
    for n in part if isinstance(part, list) else [part]:
        if n.get('type') not in POOLING_NECKS:
            w.refuse(
                f'model.neck type {n.get("type")!r}: its input width is not known (mapped: '
                f'{", ".join(POOLING_NECKS)})'
            )
    return [], False


def cls_head(part, key, w):
    value = part.get('in_channels')
    if value != w.old[-1]:
        w.refuse(f"{key}.in_channels={value!r} is not the base backbone's last width {w.old[-1]}")
    return [Change(f'{key}.in_channels', value, w.new[-1], w.reason)], True


# toolkit -> (model part, its rule), in the order features flow; and what it says without one
TABLES = {
    'mmdet': (
        (('neck', neck), ('panoptic_head', neck), ('track_head', neck)),
        "model has no neck: its heads take the backbone's features directly",
    ),
    'mmseg': (
        (('neck', seg_neck), ('decode_head', seg_heads), ('auxiliary_head', seg_heads)),
        "model has no neck or head that takes the backbone's features",
    ),
    'mmpretrain': (
        (('neck', pooling_neck), ('head', cls_head)),
        "model has no head that takes the backbone's features",
    ),
}


def widths(ctx):
    """The neck and head widths that follow the backbone's, by the toolkit's table."""
    old, new, full = ctx.widths()
    if old == new:
        return []
    indices = ctx.old_backbone()[1]['out_indices']
    indices = tuple(indices) if isinstance(indices, (list, tuple)) else (indices,)
    w = Widths(
        old,
        new,
        f'{ctx.target.arch} widths {new} at out_indices {indices}, not {old}',
        with_widths(full),
    )
    parts, missing = TABLES[ctx.scope]
    changes = []
    for key, rule in parts:
        if ctx.model.get(key):
            found, ends = rule(ctx.model[key], f'model.{key}', w)
            changes += found
            if ends:
                return changes
    if not changes:
        w.refuse(f'{missing} (widths {old} -> {new})')
    return changes
