"""Argument checks that fail at build time with one line naming the argument, the value and
what is allowed: ``ValueError('<owner>: <name> must be <allowed>, got <value>')``."""

import difflib
import functools
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
    groups = cfg.get('num_groups') if kind == 'norm' else None
    if groups is not None and not (is_int(groups) and groups > 0):  # torch: 0 divides, and a
        fail(  # negative count builds and fails in forward
            owner,
            name,
            cfg,
            'a norm whose num_groups is a positive int',
            toolkit=ZeroDivisionError if groups == 0 else None,
        )
    from mmcv.cnn import build_activation_layer, build_conv_layer, build_norm_layer

    try:
        if kind == 'activation':
            build_activation_layer(cfg)
        elif kind == 'norm':
            build_norm_layer(cfg, groups or 8)
        else:
            build_conv_layer(cfg, 8, 8, 1)
    except (KeyError, TypeError, ValueError, AssertionError) as error:
        reason = _unregistered(cfg['type']) or ' '.join(str(error).split())[:200]
        raise error_class(ValueError, type(error))(
            f'{owner}: {name} must be {allowed}, got {cfg!r} ({reason or _bare(cfg, error)})'
        ) from None


def _bare(cfg, error):
    """What an mmcv assertion without a message means: GN without ``num_groups``."""
    if cfg.get('type') == 'GN' and 'num_groups' not in cfg:
        return "GN needs num_groups, e.g. dict(type='GN', num_groups=32)"
    return type(error).__name__


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
