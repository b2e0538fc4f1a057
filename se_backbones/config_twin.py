"""Turn a toolkit config with a ResNet backbone into its SE twin: the same model, schedule and
data with an SE backbone of ours and ImageNet SE weights from timm.

:func:`make_se_config` writes a config that inherits the base (``_base_ = BASE``) and replaces
its backbone (``_delete_=True``). It keeps the base's training settings of the backbone
(``out_indices``, ``frozen_stages``, norms, dilations, DCN, ...), takes the architecture
(depth, style, stem, ...) from the target, and fixes what depends on the backbone: neck and head
input widths, the data preprocessor's normalisation, ``init_cfg``, a model-level ``pretrained``.
Every change comes with its reason; what cannot be mapped raises :class:`TwinError` naming why,
before anything is written. ``tools/make_se_config.py`` is its command line.

Architecture names (``se_r50``, ``se_x101_64x4d``, ``eca_r50d``, ``legacy_se_r101``, ...) are
timm's SE names shortened: see :data:`ARCHS` and :func:`arch_table`.
"""
import copy
import difflib
import functools
import importlib
import importlib.util
import inspect
import os
import os.path as osp
import tempfile

from .weights.timm_archs import TIMM_ARCHS, backbone_cfg_from_timm, timm_arch

TOOLKITS = ('mmdet', 'mmseg', 'mmpretrain')
# The base backbones that map: their defaults come from the toolkit's class; the V1c/V1d
# variants imply their stem and downsampling.
MAPPABLE = ('ResNet', 'ResNetV1c', 'ResNetV1d', 'ResNeXt')
IMPLIED = {'ResNetV1c': dict(deep_stem=True, avg_down=False),
           'ResNetV1d': dict(deep_stem=True, avg_down=True)}
# Kept from the base: how the backbone is trained and where it samples, not what it is.
KEEP = ('num_stages', 'strides', 'dilations', 'out_indices', 'frozen_stages', 'conv_cfg',
        'norm_cfg', 'norm_eval', 'contract_dilation', 'multi_grid', 'dcn', 'stage_with_dcn',
        'plugins', 'with_cp', 'zero_init_residual', 'in_channels')
# Taken from the target architecture (the weights decide them).
FROM_ARCH = ('depth', 'style', 'deep_stem', 'avg_down', 'stem_channels', 'base_channels',
             'groups', 'base_width', 'width_per_group', 'expansion')
REPLACED = ('type', 'init_cfg', 'pretrained', '_scope_')
# Base arguments without a counterpart that are harmless at these values.
DROPPABLE = {'drop_path_rate': (0, 0.0)}
# Data preprocessors' colour-order key per toolkit, when the base does not name one.
RGB_KEY = {'mmdet': 'bgr_to_rgb', 'mmseg': 'bgr_to_rgb', 'mmpretrain': 'to_rgb'}
# mmpretrain necks that pass the backbone's width through unchanged.
POOLING_NECKS = ('GlobalAveragePooling', 'GeneralizedMeanPooling')
# mmseg necks whose outputs have their own width (heads after them are unaffected).
SEG_WIDTH_NECKS = ('FPN', )


class TwinError(ValueError):
    """A base config (or an option) that cannot be turned into an SE twin; the message says
    why. Nothing has been written."""


def arch_of_timm(name):
    """Our architecture name for a timm SE name (tag ignored).

    Example:
        >>> [arch_of_timm(n) for n in ('seresnet50.a1_in1k', 'seresnext101_64x4d',
        ...                            'legacy_seresnet101', 'ecaresnet50d', 'senet154')]
        ['se_r50', 'se_x101_64x4d', 'legacy_se_r101', 'eca_r50d', 'senet154']
    """
    arch = timm_arch(name)
    prefix = 'legacy_' if arch.startswith('legacy_') else ''
    rest = arch[len(prefix):]
    for timm_stem, ours in (('seresnext', 'se_x'), ('seresnet', 'se_r'), ('ecaresnet', 'eca_r')):
        if rest.startswith(timm_stem):
            return prefix + ours + rest[len(timm_stem):]
    return arch  # senet154, legacy_senet154


#: Our architecture name -> timm architecture (one for each of :data:`TIMM_ARCHS`).
ARCHS = {arch_of_timm(name): name for name in TIMM_ARCHS}


def resolve_arch(arch):
    """The timm architecture of one of our names; a TwinError with the closest names else."""
    if arch in ARCHS:
        return ARCHS[arch]
    if arch in TIMM_ARCHS:
        hint = f" (that is timm's name: use --arch {arch_of_timm(arch)}, or --timm {arch})"
    else:
        close = difflib.get_close_matches(arch, ARCHS, n=3)
        hint = f' (did you mean {" or ".join(close)}?)' if close else ''
    raise TwinError(f'unknown architecture {arch!r}{hint}; known: {", ".join(ARCHS)}')


@functools.lru_cache(maxsize=None)
def timm_weights():
    """timm architecture -> its pretrained tags (``'seresnet50.a1_in1k'``, ...), read from
    timm's registry (no network); ``[]`` where timm has none (``seresnet18``: untrained)."""
    import timm
    tags = {arch: [] for arch in TIMM_ARCHS}
    for name in timm.list_pretrained():
        arch = name.split('.', 1)[0]
        if arch in tags:
            tags[arch].append(name)
    return tags


def arch_table():
    """Lines of a markdown table: each architecture, its backbone config and timm's weights."""
    weights = timm_weights()
    lines = ['| --arch | timm architecture | backbone | timm ImageNet weights (--timm) |',
             '|---|---|---|---|']
    for ours, arch in ARCHS.items():
        cfg = backbone_cfg_from_timm(arch)
        cls = cfg.pop('type').split('.')[-1]
        args = ', '.join(f'{k}={v!r}' for k, v in cfg.items())
        lines.append(f'| {ours} | {arch} | {cls}({args}) | '
                     f'{", ".join(weights[arch]) or "none (untrained)"} |')
    return lines


class Change:
    """One setting the twin changes: where, from what, to what and why."""

    def __init__(self, key, old, new, reason):
        self.key, self.old, self.new, self.reason = key, old, new, reason

    def __str__(self):
        return f'{self.key}: {short(self.old)} -> {short(self.new)} ({self.reason})'

    def __repr__(self):
        return f'Change({self.key!r}, {self.old!r}, {self.new!r}, {self.reason!r})'


class Twin:
    """What :func:`make_se_config` did: ``changes`` (:class:`Change`), ``kept`` (backbone
    settings taken from the base), ``notes`` (warnings), ``text`` (the config), ``path``."""

    def __init__(self, base, arch, model_name, changes, kept, notes, text, path=None):
        self.base, self.arch, self.model_name = base, arch, model_name
        self.changes, self.kept, self.notes, self.text, self.path = (
            changes, kept, notes, text, path)

    def report(self):
        """The lines the command prints."""
        lines = [f'SE twin of {self.base}: {self.arch}'
                 + (f' with timm weights {self.model_name}' if self.model_name else
                    ' (untrained)')]
        lines += [f'  {c}' for c in self.changes]
        if self.kept:
            lines.append('  kept from the base backbone: '
                         + ', '.join(f'{k}={short(v)}' for k, v in self.kept.items()))
        lines += [f'  note: {n}' for n in self.notes]
        if self.path:
            lines.append(f'wrote {self.path}')
        return lines


def short(value):
    """A compact repr: ``Pretrained(torchvision://resnet50)`` for init configs."""
    if isinstance(value, dict) and 'type' in value and len(value) <= 4:
        inner = ', '.join(f'{v}' if k in ('checkpoint', 'model_name') else f'{k}={v!r}'
                          for k, v in value.items() if k != 'type')
        return f'{value["type"]}({inner})'
    return repr(plain(value))


def plain(value):
    """ConfigDicts and lists as plain dicts and lists (tuples kept)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, tuple):
        return tuple(plain(v) for v in value)
    return value


# --- the base config -------------------------------------------------------------------------

def base_path(base):
    """The file of ``BASE``: a path, or ``'mmdet::faster_rcnn/x.py'`` in the installed
    toolkit's configs."""
    if '::' not in base:
        if not osp.isfile(base):
            raise TwinError(f'base config {base!r} does not exist')
        return base
    package, _, rel = base.partition('::')
    if package not in TOOLKITS:
        raise TwinError(f'base config {base!r}: the scope must be one of '
                        f'{", ".join(t + "::" for t in TOOLKITS)}')
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise TwinError(f'base config {base!r}: {package} is not installed')
    root = osp.join(list(spec.submodule_search_locations)[0], '.mim', 'configs')
    path = osp.join(root, rel)
    if not osp.isfile(path):
        close = []
        folder = osp.dirname(path)
        if osp.isdir(folder):
            close = difflib.get_close_matches(osp.basename(rel), os.listdir(folder), n=2)
        hint = f'; similar: {", ".join(close)}' if close else ''
        raise TwinError(f'base config {base!r}: {package} has no config {rel!r} '
                        f'(looked in {root}){hint}')
    return path


def load_base(base):
    from mmengine.config import Config
    path = base_path(base)
    try:
        return Config.fromfile(path)
    except Exception as error:  # a broken base: one line, what Config said
        reason = ' '.join(str(error).split())[:300]
        raise TwinError(f'cannot load base config {base!r}: {type(error).__name__}: '
                        f'{reason}') from error


def toolkit_of(cfg, base):
    scope = cfg.get('default_scope') or (base.partition('::')[0] if '::' in base else None)
    if scope not in TOOLKITS:
        raise TwinError(f'base config {base!r}: default_scope is {scope!r}, not one of '
                        f'{", ".join(TOOLKITS)} (the toolkit decides the backbone classes)')
    if scope == 'mmpretrain' and importlib.util.find_spec('mmpretrain') is None:
        raise TwinError('mmpretrain is not installed (pip install se_backbones[mmpretrain])')
    return scope


def base_class(scope, type_name):
    """The toolkit's backbone class of ``type_name`` (``'ResNet'``, ``'mmdet.ResNeXt'``)."""
    registry = importlib.import_module(f'{scope}.registry').MODELS
    return registry.get(type_name)


def class_defaults(cls):
    """Every argument default of ``cls`` and its parents' ``__init__`` (the first wins)."""
    defaults = {}
    for klass in cls.__mro__:
        if '__init__' not in vars(klass):
            continue
        for name, p in inspect.signature(klass.__init__).parameters.items():
            if p.default is not p.empty and p.kind is p.POSITIONAL_OR_KEYWORD:
                defaults.setdefault(name, p.default)
        if klass.__name__ == 'BaseModule':
            break
    return defaults


def effective_backbone(scope, backbone, where):
    """The base backbone's settings, its class's defaults filled in; TwinError if its type
    does not map."""
    type_name = backbone.get('type')
    short_type = type_name.split('.')[-1] if isinstance(type_name, str) else type_name
    if short_type not in MAPPABLE:
        if isinstance(type_name, str) and type_name.startswith('se_backbones.'):
            raise TwinError(f'{where}.type is {type_name!r}: the base is already an SE model')
        raise TwinError(f'{where}.type is {type_name!r}, not one of {", ".join(MAPPABLE)}: '
                        'only a ResNet-family backbone maps to an SE-ResNet (its stages, widths '
                        'and training settings)')
    cls = base_class(scope, type_name)
    if cls is None:
        raise TwinError(f'{where}.type {type_name!r} is not registered in {scope}')
    values = dict(class_defaults(cls), **IMPLIED.get(short_type, {}), **plain(backbone))
    return short_type, cls, values


def widths(depth, base_channels=64, expansion=None, num_stages=4):
    """Output channels of each stage of a ResNet-family backbone."""
    if expansion is None:
        expansion = 1 if depth in (18, 34) else 4
    return [base_channels * 2**i * expansion for i in range(num_stages)]


def target_widths(arch, num_stages):
    from .registry import MODELS
    cfg = backbone_cfg_from_timm(arch)
    block = MODELS.get(cfg['type']).arch_settings[cfg['depth']][0]
    return widths(cfg['depth'], cfg.get('base_channels', 64), block.expansion, num_stages)


def our_defaults(type_name):
    """The defaults of our backbone class (SEResNet: mmseg's ResNet ones and its own)."""
    from .registry import MODELS
    return class_defaults(MODELS.get(type_name))


# --- the target ------------------------------------------------------------------------------

def choose_weights(arch, timm_name, checkpoint):
    """(our arch name, timm arch, TimmPretrained model_name or None, notes)."""
    notes = []
    if arch is None and timm_name is None:
        raise TwinError('give --timm NAME (the weights; it implies the architecture) or --arch '
                        'ARCH (an untrained backbone, or with --checkpoint a local timm file); '
                        'see --list-archs')
    if timm_name is not None:
        try:
            arch_from_name = arch_of_timm(timm_name)
        except (ValueError, TypeError) as error:
            raise TwinError(f'--timm {timm_name}: not an SE architecture se_backbones '
                            'reproduces; see --list-archs for the names') from error
        if arch is not None:
            resolve_arch(arch)
            if arch != arch_from_name:
                raise TwinError(
                    f'--arch {arch} and --timm {timm_name} disagree: {timm_name} has the '
                    f'architecture {arch_from_name} ({describe(ARCHS[arch_from_name])}), '
                    f'{arch} is {describe(ARCHS[arch])}; drop --arch, it follows from --timm')
        arch = arch_from_name
    timm_name_arch = resolve_arch(arch)
    weights = timm_weights()[timm_name_arch]
    if timm_name is None:
        if checkpoint is None:
            notes.append(f'--arch {arch} alone: the backbone starts UNTRAINED (init_cfg=None); '
                         + (f'timm weights of this architecture: {", ".join(weights)} (--timm)'
                            if weights else
                            f'timm has no ImageNet weights for {timm_name_arch}'
                            + similar_with_weights(arch)))
            return arch, timm_name_arch, None, notes
        return arch, timm_name_arch, timm_name_arch, notes
    if '.' in timm_name:
        if timm_name not in weights and checkpoint is None:
            raise TwinError(f'--timm {timm_name}: timm has no such pretrained tag; its tags for '
                            f'{timm_name_arch}: {", ".join(weights) or "none"}')
        return arch, timm_name_arch, timm_name, notes
    if checkpoint is not None:
        return arch, timm_name_arch, timm_name, notes
    if not weights:
        raise TwinError(f'--timm {timm_name}: timm has no ImageNet weights for '
                        f'{timm_name_arch} (its pretrained_cfg is untrained)'
                        + similar_with_weights(arch) + f'; --arch {arch} starts untrained, '
                        '--checkpoint PATH loads a local file')
    notes.append(f'--timm {timm_name}: timm\'s default weights {weights[0]}')
    return arch, timm_name_arch, weights[0], notes


def similar_with_weights(arch):
    """``'; with weights: legacy_se_r18 (legacy_seresnet18.in1k)'`` for architectures of the
    same depth family that have timm weights."""
    weights = timm_weights()
    depth = backbone_cfg_from_timm(ARCHS[arch])['depth']
    same = [f'{a} ({weights[t][0]})' for a, t in ARCHS.items()
            if weights[t] and backbone_cfg_from_timm(t)['depth'] == depth]
    return f'; with weights at depth {depth}: {", ".join(same)}' if same else ''


def describe(timm_name_arch):
    cfg = backbone_cfg_from_timm(timm_name_arch)
    cls = cfg.pop('type').split('.')[-1]
    return f'{cls}({", ".join(f"{k}={v!r}" for k, v in cfg.items())})'


def normalisation(model_name):
    """mean, std (0-255, RGB) of timm's pretrained_cfg for ``model_name``."""
    from timm.models import get_pretrained_cfg
    cfg = get_pretrained_cfg(model_name) or get_pretrained_cfg(timm_arch(model_name))
    if cfg is None:  # an unknown tag of a local file: the architecture's default
        raise TwinError(f'timm has no pretrained_cfg for {model_name!r}')
    return ([round(v * 255, 4) for v in cfg.mean], [round(v * 255, 4) for v in cfg.std])


# --- the twin --------------------------------------------------------------------------------

def make_se_config(base, out=None, arch=None, timm=None, checkpoint=None, overwrite=False):
    """Write the SE twin of ``base`` to ``out`` and return a :class:`Twin`.

    Args:
        base (str): The base config: a path or ``'mmdet::...'``, ``'mmseg::...'``,
            ``'mmpretrain::...'``.
        out (str, optional): Where to write the twin (``.py``); None: only compute it.
        arch (str, optional): Our architecture name (:data:`ARCHS`), e.g. ``'se_r50'``.
        timm (str, optional): timm weights (``'seresnet50.a1_in1k'``; a name without tag takes
            timm's default weights); implies ``arch`` (both given: they must agree).
        checkpoint (str, optional): A local file of the timm model's state dict.
        overwrite (bool): Replace an existing ``out``. Default: False.

    Raises:
        TwinError: naming what cannot be mapped; nothing is written then.
    """
    if out is not None:
        if not out.endswith('.py'):
            raise TwinError(f'OUT {out!r} must be a .py file (MMEngine reads configs by suffix)')
        if osp.exists(out) and not overwrite:
            raise TwinError(f'OUT {out!r} exists (--force replaces it)')
        if '::' not in base and osp.isfile(base) and osp.exists(out) and osp.samefile(base, out):
            raise TwinError('OUT is the base config itself')
    if checkpoint is not None:
        if not osp.isfile(checkpoint):
            raise TwinError(f'--checkpoint {checkpoint!r} does not exist')
        checkpoint = osp.abspath(checkpoint)
    arch, timm_name_arch, model_name, notes = choose_weights(arch, timm, checkpoint)
    cfg = load_base(base)
    scope = toolkit_of(cfg, base)
    model = cfg.get('model')
    if not isinstance(model, dict) or not isinstance(model.get('backbone'), dict):
        raise TwinError(f'base config {base!r} has no model.backbone dict (a wrapper model, '
                        'e.g. a semi-supervised teacher/student, or a backbone set otherwise); '
                        'not mapped')
    mapper = _Mapper(base, cfg, scope, arch, timm_name_arch, model_name, checkpoint, notes)
    mapper.run()
    text = mapper.render(out)
    twin = Twin(base, arch, model_name, mapper.changes, mapper.kept, mapper.notes, text)
    if out is not None:
        write_checked(text, out)
        twin.path = out
    return twin


def write_checked(text, out):
    """Write ``text`` to ``out`` only if MMEngine loads it (a temporary file next to it first,
    so relative ``_base_`` paths resolve as they will)."""
    from mmengine.config import Config
    folder = osp.dirname(osp.abspath(out))
    created = []  # the folders made for OUT, removed again if it is not written
    parent = folder
    while not osp.isdir(parent):
        created.append(parent)
        parent = osp.dirname(parent)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix='.py', prefix='.se_twin_', dir=folder)
    written = False
    try:
        with os.fdopen(fd, 'w') as f:
            f.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's file is private; a config is not
        try:
            Config.fromfile(tmp)
        except Exception as error:
            reason = ' '.join(str(error).split())[:300]
            raise TwinError(f'the twin does not load ({type(error).__name__}: {reason}); '
                            'nothing written') from error
        os.replace(tmp, out)
        written = True
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
        if not written:
            for path in created:
                try:
                    os.rmdir(path)
                except OSError:
                    pass


class _Mapper:
    """Computes the twin's overrides of one base config."""

    def __init__(self, base, cfg, scope, arch, timm_name_arch, model_name, checkpoint, notes):
        self.base, self.cfg, self.scope = base, cfg, scope
        self.arch, self.timm_arch, self.model_name = arch, timm_name_arch, model_name
        self.checkpoint, self.notes = checkpoint, notes
        self.pretrained = model_name is not None
        self.changes, self.kept = [], {}
        self.model = {}  # model overrides
        self.top = {}  # top-level overrides (besides _base_ and custom_imports)

    def change(self, key, old, new, reason):
        self.changes.append(Change(key, old, new, reason))

    def run(self):
        model = plain(self.cfg.model)
        self.map_backbone(model)
        self.map_widths(model)
        self.map_preprocessor(model)
        self.map_init(model)

    # backbone ---------------------------------------------------------------------------
    def map_backbone(self, model):
        where = 'model.backbone'
        base_type, _, old = effective_backbone(self.scope, model['backbone'], where)
        roi = model.get('roi_head') or {}
        if isinstance(roi, dict) and roi.get('shared_head'):
            raise TwinError(
                f'model.roi_head.shared_head is {roi["shared_head"].get("type")!r}, a plain '
                'ResNet stage run on the backbone\'s last output (C4 layout): its layers and '
                'weights are the base ResNet\'s; not mapped (use an FPN config)')
        explicit = model['backbone']
        target = backbone_cfg_from_timm(self.timm_arch)
        ours = our_defaults(target['type'].split('.')[-1])
        unknown = [k for k in explicit if k not in KEEP + FROM_ARCH + REPLACED
                   and not (k in DROPPABLE and explicit[k] in DROPPABLE[k])]
        if unknown:
            raise TwinError(
                f'{where}: {", ".join(f"{k}={explicit[k]!r}" for k in unknown)} has no '
                f'counterpart in se_backbones.{target["type"].split(".")[-1]}; not mapped')
        new = dict(_delete_=True, type=target.pop('type'))
        new['depth'] = target.pop('depth')
        for key in ('groups', 'base_width'):
            if key in target:
                new[key] = target.pop(key)
        new.update(target)
        new['style'] = target.get('style', 'pytorch')
        why = f'{self.timm_arch}\'s architecture: the weights decide it'
        self.change(f'{where}.type', explicit.get('type'), new['type'], f'{self.arch}, {why}')
        arch_ref = dict(ours, **new)
        from .registry import MODELS
        arch_ref['expansion'] = MODELS.get(new['type']).arch_settings[new['depth']][0].expansion
        for key in ('depth', 'style', 'deep_stem', 'avg_down'):
            if old.get(key) != arch_ref.get(key):
                self.change(f'{where}.{key}', old.get(key), arch_ref.get(key), why)
        if old.get('deep_stem') or arch_ref.get('deep_stem'):
            old_stem = old.get('stem_channels') or old.get('base_channels', 64)
            new_stem = arch_ref.get('stem_channels') or arch_ref.get('base_channels', 64)
            if old.get('deep_stem') and arch_ref.get('deep_stem') and old_stem != new_stem:
                self.change(f'{where}.stem_channels', old_stem, new_stem, why)
        for key in ('base_channels', 'expansion'):
            if key in explicit and explicit[key] != arch_ref.get(key):
                self.change(f'{where}.{key}', explicit[key], arch_ref.get(key), why)
        if base_type != 'ResNeXt' and 'groups' in new:
            self.change(f'{where}.groups', 1, new['groups'], why)
        if base_type == 'ResNeXt':
            grouped = {k: old[k] for k in ('groups', 'base_width', 'width_per_group')
                       if k in old}
            if 'groups' not in new:
                self.change(f'{where}.groups', grouped.get('groups'), 1,
                            f'{why} ({self.arch} has no grouped convs)')
            for key, value in grouped.items():
                counterpart = 'base_width' if key == 'width_per_group' else key
                if 'groups' in new and new.get(counterpart) != value:
                    self.change(f'{where}.{key}', value, new.get(counterpart), why)
        for key in ('stem_pool_cfg', 'se_cfg', 'act_before_se'):
            if key in new:  # the base's layers are our defaults' (ResNet's pool, no SE)
                self.change(f'{where}.{key}', ours.get(key), new[key], why)
        # kept settings: explicit in the base, or a class default that differs from ours
        target_cls = new['type'].split('.')[-1]
        for key in KEEP:
            if key not in old:
                continue
            if key in explicit or old[key] != ours.get(key):
                new[key] = old[key]
                self.kept[key] = old[key]
        self.check_kept(new, target_cls, where)
        new['init_cfg'] = self.init_cfg()
        if not self.pretrained:
            reason = 'no weights for --arch alone: the backbone starts untrained'
        elif self.checkpoint:
            reason = f'{self.model_name} weights from the local file'
        else:
            reason = ('ImageNet SE weights from timm; missing_ok: offline, training continues '
                      'from the default init (logged)')
        self.change(f'{where}.init_cfg', explicit.get('init_cfg'), new['init_cfg'], reason)
        if explicit.get('pretrained'):
            self.change(f'{where}.pretrained', explicit['pretrained'], None,
                        'plain-ResNet weights; init_cfg takes over')
        self.model['backbone'] = new
        self.old_backbone, self.new_backbone = old, new
        if not self.pretrained or not self.checkpoint:  # none, or timm's with missing_ok
            frozen = []
            if new.get('frozen_stages', -1) >= 0:
                frozen.append(f'frozen_stages={new["frozen_stages"]}')
            if new.get('norm_eval'):
                frozen.append('norm_eval=True')
            if (new.get('norm_cfg') or {}).get('requires_grad') is False:
                frozen.append('norm_cfg.requires_grad=False')
            if frozen and not self.pretrained:
                self.notes.append(f'the base freezes parts of its backbone ({", ".join(frozen)}'
                                  '), settings made for pretrained weights: untrained, those '
                                  'parts keep their random init (set frozen_stages=-1, '
                                  'norm_eval=False to train them)')
            elif frozen:
                self.notes.append(f'the base freezes parts of its backbone ({", ".join(frozen)}'
                                  '): if timm cannot provide the weights (offline, not cached), '
                                  'missing_ok trains on from random init with those parts '
                                  'frozen; pass the weights file with --checkpoint, or set '
                                  'frozen_stages=-1, norm_eval=False')

    def check_kept(self, new, target_cls, where):
        num_stages = new.get('num_stages', 4)
        depth = new['depth']
        bottleneck = not (target_cls == 'SEResNet' and depth in (18, 34))
        with_dcn = new.get('dcn') is not None and any(
            new.get('stage_with_dcn', (False, ) * num_stages))
        if with_dcn and not bottleneck:
            raise TwinError(f'{where}: dcn on stages {new.get("stage_with_dcn")}, but {self.arch} '
                            'has basic blocks (depth 18/34; DCN needs bottlenecks)')
        if new.get('plugins') and not bottleneck:
            raise TwinError(f'{where}: plugins need bottleneck blocks; {self.arch} has basic '
                            'blocks (depth 18/34)')
        if target_cls == 'SENet154' and (with_dcn or new.get('plugins')):
            raise TwinError(f'{where}: dcn/plugins are not supported by SENet-154 blocks')
        grid = new.get('multi_grid')
        if grid is not None:
            from .registry import MODELS
            blocks = MODELS.get(target_cls).arch_settings[depth][1][num_stages - 1]
            if len(grid) != blocks:
                raise TwinError(f'{where}: multi_grid={tuple(grid)} has one rate per block of '
                                f'the last stage; {self.arch} has {blocks} blocks there')
        if not self.pretrained:
            return
        if num_stages != 4:
            raise TwinError(f'{where}: num_stages={num_stages}; timm\'s weights have 4 stages '
                            '(TimmPretrained loads all keys strictly); use --arch alone')
        if new.get('in_channels', 3) != 3:
            raise TwinError(f'{where}: in_channels={new["in_channels"]}; timm\'s weights take '
                            '3-channel images')
        norm = (new.get('norm_cfg') or {}).get('type', 'BN')
        if norm not in ('BN', 'SyncBN', 'BN2d', 'MMSyncBN', 'TorchSyncBN'):
            raise TwinError(f'{where}: norm_cfg type {norm!r}; timm\'s weights are BatchNorm '
                            '(weights and running statistics): use --arch alone for an untrained '
                            f'{norm} backbone')
        conv = (new.get('conv_cfg') or {}).get('type', 'Conv2d')
        if conv not in ('Conv', 'Conv2d'):
            raise TwinError(f'{where}: conv_cfg type {conv!r}; timm\'s weights were trained with '
                            'plain convolutions: use --arch alone for an untrained backbone')

    def init_cfg(self):
        if not self.pretrained:
            return None
        cfg = dict(type='se_backbones.TimmPretrained', model_name=self.model_name)
        if self.checkpoint:
            cfg['checkpoint'] = self.checkpoint
        else:
            cfg['missing_ok'] = True
        return cfg

    # widths ---------------------------------------------------------------------------
    def map_widths(self, model):
        old, new = self.old_backbone, self.new_backbone
        num_stages = old.get('num_stages', 4)
        out_indices = list(new.get('out_indices', old.get('out_indices')))
        old_w = widths(old['depth'], old.get('base_channels', 64), old.get('expansion'),
                       num_stages)
        new_w = target_widths(self.timm_arch, num_stages)
        self.old_out = [old_w[i] for i in out_indices]
        self.new_out = [new_w[i] for i in out_indices]
        if self.old_out == self.new_out:
            return
        reason = (f'{self.arch} widths {self.new_out} at out_indices {tuple(out_indices)}, '
                  f'not {self.old_out}')
        getattr(self, f'widths_{self.scope}')(model, reason)

    def neck_in_channels(self, neck, key, reason):
        """Point a neck's ``in_channels`` (a list of backbone widths, or the last one) at the
        new widths; returns the changed neck."""
        neck = copy.deepcopy(neck)
        value = neck.get('in_channels')
        if value is None:
            raise TwinError(f'{key} ({neck.get("type")}) has no in_channels: which later module '
                            f'takes the backbone\'s widths {self.old_out} is not known; not '
                            'mapped')
        if isinstance(value, (list, tuple)) and list(value) == self.old_out:
            neck['in_channels'] = type(value)(self.new_out)
        elif isinstance(value, int) and value == self.old_out[-1]:
            neck['in_channels'] = self.new_out[-1]
        else:
            raise TwinError(f'{key}.in_channels={value!r} ({neck.get("type")}) is not the base '
                            f'backbone\'s output widths {self.old_out}; not mapped')
        self.change(f'{key}.in_channels', value, neck['in_channels'], reason)
        return neck

    def widths_mmdet(self, model, reason):
        neck = model.get('neck')
        if not neck:
            raise TwinError('model has no neck: its heads take the backbone\'s features '
                            f'directly (widths {self.old_out} -> {self.new_out}); not mapped')
        if isinstance(neck, list):
            self.model['neck'] = [self.neck_in_channels(neck[0], 'model.neck[0]', reason),
                                  *neck[1:]]
        else:
            self.model['neck'] = dict(in_channels=self.neck_in_channels(
                neck, 'model.neck', reason)['in_channels'])

    def widths_mmseg(self, model, reason):
        neck = model.get('neck')
        if neck:
            first = neck[0] if isinstance(neck, list) else neck
            if first.get('type') not in SEG_WIDTH_NECKS:
                raise TwinError(f'model.neck type {first.get("type")!r}: its outputs may carry '
                                'the backbone\'s widths on to the heads; not mapped (mapped '
                                f'necks: {", ".join(SEG_WIDTH_NECKS)})')
            if isinstance(neck, list):
                self.model['neck'] = [self.neck_in_channels(first, 'model.neck[0]', reason),
                                      *neck[1:]]
            else:
                self.model['neck'] = dict(in_channels=self.neck_in_channels(
                    neck, 'model.neck', reason)['in_channels'])
            return
        for name in ('decode_head', 'auxiliary_head'):
            heads = model.get(name)
            if not heads:
                continue
            if isinstance(heads, list):
                self.model[name] = [self.seg_head(h, f'model.{name}[{i}]', reason, full=True)
                                    for i, h in enumerate(heads)]
            else:
                self.model[name] = self.seg_head(heads, f'model.{name}', reason)

    def seg_head(self, head, key, reason, full=False):
        """The override of an mmseg head that reads backbone outputs ``in_index``: its
        ``in_channels``; for single-input heads also ``channels`` (and DeepLabV3+'s c1
        widths) scaled as mmseg's own R18 configs scale them."""
        update = {}
        in_index = head.get('in_index', -1)
        value = head.get('in_channels')
        try:
            if isinstance(value, int) and isinstance(in_index, int):
                if value != self.old_out[in_index]:
                    raise IndexError
                update['in_channels'] = self.new_out[in_index]
                factor = self.new_out[in_index] / value
                pairs = [('channels', factor)]
                if 'c1_in_channels' in head:
                    if head['c1_in_channels'] != self.old_out[0]:
                        raise IndexError
                    update['c1_in_channels'] = self.new_out[0]
                    pairs.append(('c1_channels', self.new_out[0] / self.old_out[0]))
                for name, f in pairs:
                    if isinstance(head.get(name), int) and (head[name] * f).is_integer():
                        update[name] = int(head[name] * f)
            elif isinstance(value, (list, tuple)) and list(value) == self.old_out:
                update['in_channels'] = type(value)(self.new_out)  # all outputs (Mask2Former)
            elif isinstance(value, (list, tuple)) and isinstance(in_index, (list, tuple)):
                if [self.old_out[i] for i in in_index] != list(value):
                    raise IndexError
                update['in_channels'] = type(value)(self.new_out[i] for i in in_index)
            else:
                raise IndexError
        except IndexError:
            raise TwinError(f'{key} ({head.get("type")}): in_channels={value!r} at '
                            f'in_index={in_index!r} is not the base backbone\'s widths '
                            f'{self.old_out}; not mapped') from None
        for name, v in update.items():
            why = reason if name.endswith('in_channels') else (
                'a single-input head\'s width scales with its input, as in mmseg\'s R18 configs')
            self.change(f'{key}.{name}', head.get(name), v, why)
        return dict(head, **update) if full else update

    def widths_mmpretrain(self, model, reason):
        neck = model.get('neck')
        necks = neck if isinstance(neck, list) else [neck] if neck else []
        for n in necks:
            if n.get('type') not in POOLING_NECKS:
                raise TwinError(f'model.neck type {n.get("type")!r}: its input width is not '
                                f'mapped (mapped: {", ".join(POOLING_NECKS)})')
        head = model.get('head') or {}
        value = head.get('in_channels')
        if value != self.old_out[-1]:
            raise TwinError(f'model.head.in_channels={value!r} is not the base backbone\'s last '
                            f'width {self.old_out[-1]}; not mapped')
        self.model['head'] = dict(in_channels=self.new_out[-1])
        self.change('model.head.in_channels', value, self.new_out[-1], reason)

    # normalisation, init --------------------------------------------------------------
    def map_preprocessor(self, model):
        if not self.pretrained:
            self.notes.append('untrained: the data preprocessor keeps the base\'s '
                              'normalisation')
            return
        mean, std = normalisation(self.model_name)
        reason = f'timm {self.model_name} pretrained_cfg mean/std x 255'
        found = False
        for where, holder, target in (('model.data_preprocessor', model.get('data_preprocessor'),
                                       self.model),
                                      ('data_preprocessor', self.cfg.get('data_preprocessor'),
                                       self.top)):
            if not isinstance(holder, dict):
                continue
            found = True
            holder = plain(holder)
            key = next((k for k in ('bgr_to_rgb', 'to_rgb') if k in holder),
                       RGB_KEY[self.scope])
            update = {}
            for name, value, why in (('mean', mean, reason), ('std', std, reason),
                                     (key, True, 'timm\'s weights take RGB input')):
                old = holder.get(name)
                if (list(old) if isinstance(old, (list, tuple)) else old) != value:
                    update[name] = value
                    self.change(f'{where}.{name}', old, value, why)
            if update:
                target['data_preprocessor'] = update
        if not found:
            raise TwinError('the base has no data_preprocessor (model.data_preprocessor or a '
                            'top-level one) to set the weights\' normalisation in; not mapped')

    def map_init(self, model):
        if model.get('pretrained'):
            self.model['pretrained'] = None
            self.change('model.pretrained', model['pretrained'], None,
                        'plain-ResNet weights the model would hand to the backbone over its '
                        'init_cfg')
        init = model.get('init_cfg')
        if isinstance(init, dict) and init.get('type') == 'Pretrained':
            self.model['init_cfg'] = None
            self.change('model.init_cfg', init, None, 'a checkpoint of the base model (plain '
                        'ResNet backbone): it would overwrite the SE weights')
        if self.cfg.get('load_from'):
            self.top['load_from'] = None
            self.change('load_from', self.cfg.load_from, None, 'a checkpoint of the base model '
                        '(plain ResNet backbone): it would overwrite the SE weights')

    # rendering --------------------------------------------------------------------------
    def render(self, out):
        if '::' in self.base:
            base = self.base if inheritable(self.base) else osp.abspath(base_path(self.base))
            if base != self.base:
                self.notes.append(f'MMEngine cannot inherit {self.base!r} by name (a dot in a '
                                  f'folder name): _base_ is its file, {base}')
        elif out is None:
            base = osp.abspath(self.base)
        else:
            base = osp.relpath(osp.abspath(self.base), osp.dirname(osp.abspath(out)))
        imports = plain((self.cfg.get('custom_imports') or {}).get('imports', []))
        imports = [imports] if isinstance(imports, str) else list(imports)
        if 'se_backbones' not in imports:
            imports.append('se_backbones')
        lines = [f'# SE twin of {self.base}: {self.arch}'
                 + (f', timm weights {self.model_name}' if self.pretrained else ' (untrained)'),
                 '# written by se_backbones.config_twin.make_se_config '
                 '(tools/make_se_config.py); changes:']
        lines += [f'#   {c}' for c in self.changes]
        lines += [f'_base_ = {base!r}',
                  f'custom_imports = dict(imports={imports!r}, allow_failed_imports=False)']
        for key, value in self.top.items():
            lines.append(f'{key} = {fmt(value, 0, len(key) + 3)}')
        lines.append(f'model = {fmt(self.model, 0, 8)}')
        return '\n'.join(lines) + '\n'


def inheritable(name):
    """Whether MMEngine resolves ``'pkg::path'`` as a ``_base_`` (it rejects some paths, e.g.
    mmdet's ``legacy_1.x/...``)."""
    try:
        from mmengine.config.utils import _get_package_and_cfg_path
    except ImportError:  # another MMEngine: trust the name
        return True
    try:
        _get_package_and_cfg_path(name)
    except ValueError:
        return False
    return True


def fmt(value, indent, used=0, width=96):
    """Python source for a config value on a line indented by ``indent`` after ``used``
    characters (its ``key=``): ``dict(a=1, ...)`` on one line if it fits, else one item per
    line."""
    one = _fmt_line(value)
    if (len(one) + indent + used <= width or not isinstance(value, (dict, list, tuple))
            or not value):
        return one
    pad = ' ' * (indent + 4)
    if isinstance(value, dict):
        if all(isinstance(k, str) and k.isidentifier() for k in value):
            items = [f'{pad}{k}={fmt(v, indent + 4, len(k) + 1)}' for k, v in value.items()]
            return 'dict(\n' + ',\n'.join(items) + ')'
        items = [f'{pad}{k!r}: {fmt(v, indent + 4, len(repr(k)) + 2)}'
                 for k, v in value.items()]
        return '{\n' + ',\n'.join(items) + '}'
    open_, close = ('[', ']') if isinstance(value, list) else ('(', ')')
    items = [f'{pad}{fmt(v, indent + 4)}' for v in value]
    tail = ',' if isinstance(value, tuple) and len(value) == 1 else ''
    return open_ + '\n' + ',\n'.join(items) + tail + close


def _fmt_line(value):
    if isinstance(value, dict):
        if all(isinstance(k, str) and k.isidentifier() for k in value):
            return 'dict(' + ', '.join(f'{k}={_fmt_line(v)}' for k, v in value.items()) + ')'
        return '{' + ', '.join(f'{k!r}: {_fmt_line(v)}' for k, v in value.items()) + '}'
    if isinstance(value, list):
        return '[' + ', '.join(_fmt_line(v) for v in value) + ']'
    if isinstance(value, tuple):
        inner = ', '.join(_fmt_line(v) for v in value)
        return f'({inner},)' if len(value) == 1 else f'({inner})'
    return repr(value)
