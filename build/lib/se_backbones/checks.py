"""Argument checks that fail at build time with one line naming the argument, the value and
what is allowed: ``ValueError('<owner>: <name> must be <allowed>, got <value>')``."""
import difflib
from collections.abc import Sequence

ACTIVATIONS = ('ReLU', 'LeakyReLU', 'PReLU', 'ReLU6', 'ELU', 'Sigmoid', 'Tanh', 'HSigmoid',
               'HSwish', 'Swish', 'SiLU', 'GELU')
NORMS = ('BN', 'SyncBN', 'GN', 'LN', 'IN')


def fail(owner, name, value, allowed, error=ValueError):
    raise error(f'{owner}: {name} must be {allowed}, got {value!r}')


def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def check_positive_int(owner, name, value):
    """A positive int (bools are not ints here)."""
    if not is_int(value) or value <= 0:
        fail(owner, name, value, 'a positive int')


def check_number(owner, name, value, positive=True):
    """An int or float (not a bool), positive if ``positive``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (
            positive and value <= 0):
        fail(owner, name, value, 'a positive number' if positive else 'a number')


def check_bool(owner, name, value):
    if not isinstance(value, bool):
        fail(owner, name, value, 'True or False', TypeError)


def check_choice(owner, name, value, choices):
    if isinstance(value, bool) or value not in choices:
        fail(owner, name, value, 'one of ' + ', '.join(map(repr, choices)))


def check_ints(owner, name, value, length=None, minimum=1, maximum=None):
    """A sequence of ints in ``[minimum, maximum]``, of ``length`` items if given."""
    ok = isinstance(value, Sequence) and not isinstance(value, str) and all(
        is_int(v) and v >= minimum and (maximum is None or v <= maximum) for v in value)
    if not ok or (length is not None and len(value) != length) or not value:
        bound = f'>= {minimum}' if maximum is None else f'in [{minimum}, {maximum}]'
        count = f'{length} ints' if length is not None else 'a non-empty sequence of ints'
        fail(owner, name, value, f'{count} {bound}')


def check_known_args(owner, given, allowed, hints=None):
    """Every name in ``given`` is in ``allowed``; else one TypeError naming each unknown one
    with its fix (``hints[name]``, or the closest allowed name) and listing the allowed names.

    Example:
        >>> check_known_args('SEResNet', ['se_ratios'], ['depth', 'se_ratio', 'strides'])
        Traceback (most recent call last):
        ...
        TypeError: SEResNet: unknown argument 'se_ratios' (did you mean 'se_ratio'?); allowed: depth, se_ratio, strides
    """
    unknown = sorted(set(given) - set(allowed))
    if not unknown:
        return
    described = []
    for name in unknown:
        close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
        fix = (hints or {}).get(name) or (f'did you mean {close[0]!r}?' if close else None)
        described.append(f'{name!r}' + (f' ({fix})' if fix else ''))
    raise TypeError(f'{owner}: unknown argument{"s" if len(unknown) > 1 else ""} '
                    f'{", ".join(described)}; allowed: {", ".join(sorted(allowed))}')


def check_layer_cfg(owner, name, cfg, kind, optional=False):
    """A config dict whose ``type`` builds a layer of ``kind`` ('activation', 'norm' or
    'conv'), checked by building one; None if ``optional``. A norm layer is built at a width
    its config admits (a multiple of GN's ``num_groups``): whether the network's own widths
    fit is for the network to check."""
    if cfg is None and optional:
        return
    known = {'activation': ACTIVATIONS, 'norm': NORMS, 'conv': ('Conv2d', )}[kind]
    allowed = (f'a dict with a registered {kind} type (e.g. {", ".join(known)})'
               + (' or None' if optional else ''))
    if not isinstance(cfg, dict) or 'type' not in cfg:
        fail(owner, name, cfg, allowed, TypeError)
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
        reason = ' '.join(str(error).split())[:200]
        raise ValueError(f'{owner}: {name} must be {allowed}, got {cfg!r} ({reason})') from None
