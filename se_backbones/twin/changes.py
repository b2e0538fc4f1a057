"""What a twin is made of: :class:`Change` (one setting and its reason), :class:`Twin` (the
report of a written twin) and :class:`TwinError` (why a base cannot be twinned)."""

#: Kinds of Change: shown in the report; kept from the base (its own line); written silently;
#: a note (a warning line, nothing written).
CHANGED, KEPT, SET, NOTE = 'changed', 'kept', 'set', 'note'


class TwinError(ValueError):
    """A base config (or an argument) that cannot be turned into an SE twin; the message says
    why, in the library's argument names. Nothing has been written."""


def plain(value):
    """ConfigDicts and lists as plain dicts and lists (tuples kept).

    Example:
        >>> plain({'a': [1, (2, 3)]})
        {'a': [1, (2, 3)]}
    """
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, tuple):
        return tuple(plain(v) for v in value)
    return value


def short(value):
    """A compact repr: ``Pretrained(torchvision://resnet50)`` for init configs.

    Example:
        >>> short(dict(type='Pretrained', checkpoint='torchvision://resnet50')), short([1, 2])
        ('Pretrained(torchvision://resnet50)', '[1, 2]')
    """
    if isinstance(value, dict) and 'type' in value and len(value) <= 4:
        inner = ', '.join(
            f'{v}' if k in ('checkpoint', 'model_name') else f'{k}={v!r}'
            for k, v in value.items()
            if k != 'type'
        )
        return f'{value["type"]}({inner})'
    return repr(plain(value))


def same(a, b):
    """Equal as config values (a tuple equals the list of its items)."""

    def norm(v):
        v = plain(v)
        return list(map(norm, v)) if isinstance(v, (list, tuple)) else v

    return norm(a) == norm(b)


class Change:
    """One setting of the twin: where (``key``, e.g. ``'model.neck.in_channels'``), from what,
    to what, and why. ``write``: None writes ``new`` at ``key``; False writes nothing (the
    setting goes with a replaced dict); ``(path, value)`` writes ``value`` at ``path`` (a list
    of heads written whole).

    Example:
        >>> str(Change('model.neck.in_channels', [256, 512], [64, 128], 'widths'))
        'model.neck.in_channels: [256, 512] -> [64, 128] (widths)'
        >>> Change('model.backbone.init_cfg', None, None, 'none').shown
        False
    """

    def __init__(self, key, old, new, reason, kind=CHANGED, write=None):
        self.key, self.old, self.new, self.reason = key, old, new, reason
        self.kind, self.write = kind, write

    @classmethod
    def note(cls, text):
        return cls(None, None, None, text, NOTE, write=False)

    @property
    def shown(self):
        """Whether the report lists it as a change (a changed value, not a kept one)."""
        return self.kind == CHANGED and not same(self.old, self.new)

    def written(self):
        """``(path, value)`` to write, or None."""
        if self.write is False or self.kind == NOTE:
            return None
        return self.write or (self.key, self.new)

    def __str__(self):
        return f'{self.key}: {short(self.old)} -> {short(self.new)} ({self.reason})'

    def __repr__(self):
        return f'Change({self.key!r}, {self.old!r}, {self.new!r}, {self.reason!r}, {self.kind!r})'


class Twin:
    """What :func:`~se_backbones.twin.make_se_config` did: ``items`` (every :class:`Change`),
    ``text`` (the config), ``path`` (where it was written, or None); ``changes``, ``kept`` and
    ``notes`` as the report shows them."""

    def __init__(self, base, arch, model_name, items, text, path=None):
        self.base, self.arch, self.model_name = base, arch, model_name
        self.items, self.text, self.path = items, text, path

    @property
    def changes(self):
        return [c for c in self.items if c.shown]

    @property
    def kept(self):
        return {c.key.rsplit('.', 1)[-1]: c.new for c in self.items if c.kind == KEPT}

    @property
    def notes(self):
        return [c.reason for c in self.items if c.kind == NOTE]

    def report(self):
        """The lines the command prints."""
        weights = f' with timm weights {self.model_name}' if self.model_name else ' (untrained)'
        lines = [f'SE twin of {self.base}: {self.arch}{weights}']
        lines += [f'  {c}' for c in self.changes]
        if self.kept:
            lines.append(
                '  kept from the base backbone: '
                + ', '.join(f'{k}={short(v)}' for k, v in self.kept.items())
            )
        lines += [f'  note: {n}' for n in self.notes]
        if self.path:
            lines.append(f'wrote {self.path}')
        return lines
