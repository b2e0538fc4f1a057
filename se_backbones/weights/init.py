import logging
import os
import re

from mmengine.logging import print_log
from mmengine.model.weight_init import PretrainedInit

from ..checks import check_bool, check_known_args, fail
from ..registry import WEIGHT_INITIALIZERS
from .convert import TIMM_SE_KEY, check_state_dict, convert_timm_state_dict, reference_backbone
from .files import load_state_dict_file
from .timm_archs import timm_arch


def timm_pretrained_state_dict(model_name):
    """The pretrained weights timm has for ``model_name`` (its cache, else a download)."""
    import timm

    try:
        return timm.create_model(model_name, pretrained=True).state_dict()
    except Exception as error:  # offline, not cached, no such tag: one actionable message
        reason = ' '.join(f'{type(error).__name__}: {error}'.split())[:300]
        raise RuntimeError(
            f'TimmPretrained: timm could not provide pretrained weights for {model_name!r} '
            f'({reason}). Offline? Save them where you have a network, e.g. torch.save('
            f"timm.create_model('{model_name}', pretrained=True).state_dict(), 'w.pth'), "
            f"and pass checkpoint='w.pth' (.pth, .bin or .safetensors)."
        ) from error


@WEIGHT_INITIALIZERS.register_module()
class TimmPretrained:
    """Initialize an SEResNet / SEResNeXt backbone from timm weights, converted on the fly.

    Use as ``init_cfg=dict(type='se_backbones.TimmPretrained', model_name='seresnet50.a1_in1k',
    checkpoint=None)`` or the backbone shorthand ``pretrained='timm://seresnet50.a1_in1k'``.
    The backbone must have the timm model's architecture (see :func:`backbone_cfg_from_timm`;
    ``strides``, ``dilations``, ``out_indices``, freezing and norm settings are free). Strict by
    default, all keys load or none: a wrong architecture or file raises before any weight
    changes. Files are read without running code (:func:`load_state_dict_file`).

    Args:
        model_name (str): The timm name, with or without a pretrained tag.
        checkpoint (str, optional): A local ``.pth``/``.bin``/``.safetensors`` file of the timm
            model's state dict. Default: None, asking timm for its pretrained weights.
        missing_ok (bool): When ``checkpoint`` is None and timm cannot provide the weights
            (offline, not cached), keep the default init and log a warning saying so, instead
            of raising. Bad files and architectures still raise. Default: False.
        strict (bool): False loads the keys that fit (same name and shape) and logs a warning
            naming every skipped, missing or mis-shaped key; the architecture check still
            applies. Default: True.
        sha256 (str, optional): The checkpoint's SHA-256 (or a prefix of 8+ digits), checked
            before reading it. Default: None.
    """

    ARGUMENTS = ('model_name', 'checkpoint', 'missing_ok', 'strict', 'sha256')

    def __init__(
        self, model_name, checkpoint=None, missing_ok=False, strict=True, sha256=None, **unknown
    ):
        check_known_args('TimmPretrained', unknown, self.ARGUMENTS)  # a misspelt one: its fix
        timm_arch(model_name)  # fail at build time on an unsupported name
        check_bool('TimmPretrained', 'missing_ok', missing_ok)
        check_bool('TimmPretrained', 'strict', strict)
        if checkpoint is not None and not isinstance(checkpoint, str):
            fail('TimmPretrained', 'checkpoint', checkpoint, 'None or a file path', TypeError)
        if sha256 is not None and checkpoint is None:
            raise ValueError('TimmPretrained: sha256 needs checkpoint (the file it checks)')
        self.model_name = model_name
        self.checkpoint = checkpoint
        self.missing_ok = missing_ok
        self.strict = strict
        self.sha256 = sha256

    def state_dict_for(self, module):
        """The converted weights for ``module``, all checks done, nothing loaded yet; None if
        they are unavailable and ``missing_ok``."""
        arch = timm_arch(self.model_name)
        have = (
            module.architecture()
            if hasattr(module, 'architecture')
            else dict(type=type(module).__name__)
        )
        need = reference_backbone(arch).architecture()
        mismatched = (  # of the right class: where it differs; else the class it needs
            [f'{k}={have.get(k)!r} (needs {v!r})' for k, v in need.items() if have.get(k) != v]
            if have['type'] == need['type']
            else []
        )
        if have['type'] != need['type'] or mismatched:
            raise ValueError(
                f'TimmPretrained: {have["type"]} is not the architecture of '
                f'{self.model_name} ({", ".join(mismatched) or need["type"]}); '
                f'build it from se_backbones.backbone_cfg_from_timm({arch!r})'
            )
        if self.checkpoint:
            state_dict = load_state_dict_file(self.checkpoint, self.sha256)
        else:
            try:
                state_dict = timm_pretrained_state_dict(self.model_name)
            except RuntimeError as error:
                if not self.missing_ok:
                    raise
                print_log(
                    f'{error} Continuing WITHOUT pretrained weights (missing_ok=True).',
                    logger='current',
                    level=logging.WARNING,
                )
                return None
        converted = convert_timm_state_dict(self.model_name, state_dict, strict=self.strict)
        timm_keys = reference_backbone(arch).state_dict().keys()
        own = module.state_dict()
        added = [k for k in own if k not in timm_keys]  # DCN offsets, plugins, ...: config's
        converted, report = check_state_dict(
            {k: v for k, v in own.items() if k not in added},
            converted,
            f'TimmPretrained: {self.model_name} does not fit the backbone',
            self.strict,
        )
        if report:
            print_log(
                f'{report} (strict=False: these are skipped, {len(converted)} tensors load)',
                logger='current',
                level=logging.WARNING,
            )
        if added:
            print_log(
                f'TimmPretrained: {len(added)} tensors that the config adds to '
                f"{self.model_name} keep the backbone's init: {added_keys(added)}",
                logger='current',
                level=logging.INFO,
            )
        return converted

    def load(self, module, state_dict):
        """Load what :meth:`state_dict_for` returned (None: nothing). Every tensor in it was
        checked to fit; what the config adds (not in timm's weights) keeps its init."""
        if state_dict is not None:
            module.load_state_dict(state_dict, strict=False)

    def __call__(self, module):
        self.load(module, self.state_dict_for(module))

    def __repr__(self):
        return (
            f'TimmPretrained(model_name={self.model_name!r}, checkpoint={self.checkpoint!r}, '
            f'missing_ok={self.missing_ok}, strict={self.strict})'
        )


def added_keys(keys):
    """Keys grouped over blocks: ``layer*.*.conv2.conv_offset.weight (13)``.

    Example:
        >>> added_keys(['layer2.0.conv2.conv_offset.weight', 'layer3.1.conv2.conv_offset.weight',
        ...             'layer4.0.context_block.conv_mask.bias'])
        'layer*.*.conv2.conv_offset.weight (2), layer*.*.context_block.conv_mask.bias (1)'
    """
    counts = {}
    for key in keys:
        pattern = re.sub(r'^layer\d+\.\d+\.', 'layer*.*.', key)
        counts[pattern] = counts.get(pattern, 0) + 1
    return ', '.join(f'{k} ({n})' for k, n in counts.items())


def is_timm_init(cfg):
    """Whether an ``init_cfg`` entry is a :class:`TimmPretrained`."""
    return isinstance(cfg, dict) and cfg.get('type') in (
        'se_backbones.TimmPretrained',
        'TimmPretrained',
        TimmPretrained,
    )


def refuse_timm_files(owner, cfgs):
    """Refuse a local timm file given to MMEngine's ``Pretrained`` (also as ``pretrained=``),
    as one ValueError naming :class:`TimmPretrained`: MMEngine loads a checkpoint by our key
    names, so it would load the file's non-SE tensors, leave every SE layer at its init and only
    log the rest as unexpected. A file this cannot read, or one under a ``prefix``, is left to
    MMEngine (which reports what it cannot read).

    Example:
        >>> refuse_timm_files('SEResNet', [dict(type='Pretrained', checkpoint='no_such.pth')])
    """
    for cfg in cfgs:
        if not isinstance(cfg, dict) or cfg.get('type') not in ('Pretrained', PretrainedInit):
            continue
        path = cfg.get('checkpoint')
        if cfg.get('prefix') or not isinstance(path, str) or not os.path.isfile(path):
            continue
        try:
            keys = [k for k in load_state_dict_file(path) if TIMM_SE_KEY.search(k)]
        except (OSError, ValueError):
            continue
        if keys:
            more = f' and {len(keys) - 1} more' if len(keys) > 1 else ''
            fail(
                owner,
                'a Pretrained checkpoint (from pretrained= or init_cfg)',
                path,
                f"in this backbone's keys, not timm's ({keys[0]}{more} would not load); load a "
                f"timm file with init_cfg=dict(type='se_backbones.TimmPretrained', "
                f"model_name='<its timm name>', checkpoint={path!r})",
            )


def init_weights_then_timm(module, init_weights):
    """Run MMEngine's ``init_weights`` (the bound ``init_weights`` of the module's parent
    class) for ``module``, then load the ``TimmPretrained`` entries of its ``init_cfg``.

    MMEngine applies its own ``Pretrained`` after the children's init, but any other type
    before it, where the children's init (e.g. ``ConvModule``'s) would overwrite it; so the
    timm entries are taken out of ``init_cfg`` for MMEngine's pass and loaded after it; if
    nothing else is left, that pass uses the module's ``DEFAULT_INIT_CFG`` (the init it gets
    without ``init_cfg``). The weights are read and checked first: a bad file or architecture
    changes nothing.
    """
    cfgs = module.init_cfg if isinstance(module.init_cfg, list) else [module.init_cfg]
    refuse_timm_files(type(module).__name__, cfgs)
    timm_cfgs = [cfg for cfg in cfgs if is_timm_init(cfg)]
    if not timm_cfgs:
        return init_weights()
    initializers = [
        TimmPretrained(**{k: v for k, v in cfg.items() if k != 'type'}) for cfg in timm_cfgs
    ]
    state_dicts = [init.state_dict_for(module) for init in initializers]
    original = module.init_cfg
    # with only timm entries, the backbone's own default init (as without init_cfg), so that
    # what the timm weights do not cover, or everything with missing_ok offline, starts there
    module.init_cfg = [c for c in cfgs if not is_timm_init(c)] or getattr(
        module, 'DEFAULT_INIT_CFG', None
    )
    try:
        init_weights()
    finally:
        module.init_cfg = original
    for init, state_dict in zip(initializers, state_dicts, strict=True):
        init.load(module, state_dict)  # None: unavailable with missing_ok, already logged
