import contextlib
import inspect

import torch.nn as nn
import torch.utils.checkpoint as cp
from mmcv.cnn import build_conv_layer, build_norm_layer
from mmdet.models.backbones.resnet import BasicBlock, Bottleneck
from mmseg.models.backbones.resnet import ResNet

from ..checks import (check_bool, check_choice, check_ints, check_known_args, check_layer_cfg,
                      check_positive_int, fail, is_int)
from ..layers import SELayer, scale_add_relu
from ..registry import MODELS
from ..weights import init_weights_then_timm


SE_POSITIONS = ('standard', 'pre', 'post', 'identity', 'after_conv2')


def attention_class(name):
    """The class of an attention layer type, looked up in our registry first (mmdet has an
    ``SELayer`` of its own), or None."""
    return name if isinstance(name, type) else MODELS.get(name)


class SEBlockMixin:
    """Puts an optional attention layer (``se_layer``: :class:`SELayer`, :class:`ECALayer`, ...)
    into a ResNet block, by default on the residual branch before the add.

    The host block (mmdet ``BasicBlock``/``Bottleneck`` or ResNeXt's) keeps its layers and
    state-dict keys; the subclass gives ``residual(x)``, the branch up to its last norm, and
    ``last_norm``, the name zero-initialised by ``zero_init_residual``.

    Args:
        inplanes (int): Input channels of the block.
        planes (int): Base width; the block outputs ``planes * expansion`` channels.
        se_cfg (dict, optional): The attention layer's config: ``type`` (default ``'SELayer'``)
            and its arguments but ``channels``; None means no attention.
        se_position (str): Where it acts (SENet paper, Fig. 5 and Table 14): ``'standard'``
            (the residual branch, before the add), ``'pre'`` (the block's input, before the
            residual branch), ``'post'`` (the block's output, after the add and ReLU),
            ``'identity'`` (the shortcut, parallel to the residual branch) or
            ``'after_conv2'`` (inside a bottleneck, after the 3x3 conv). Default: 'standard'.
        act_before_se (bool): Apply the block's ReLU to the residual branch before SE and the
            add, as Caffe SENet's basic block does. Default: False.
        **kwargs: Arguments of the host block.
    """

    def __init__(self, inplanes, planes, se_cfg=None, se_position='standard',
                 act_before_se=False, **kwargs):
        super().__init__(inplanes, planes, **kwargs)
        self.se_position = se_position
        self.act_before_se = act_before_se
        self.se_layer = None
        if se_cfg is not None:
            channels = {'pre': inplanes, 'after_conv2': self.mid_channels(planes)
                        }.get(se_position, planes * self.expansion)
            cfg = dict(se_cfg)
            self.se_layer = attention_class(cfg.pop('type', 'SELayer'))(channels, **cfg)

    def shortcut(self, x):
        """The shortcut's output, and ``(its BN's input, that BN)`` when the downsample ends in
        an ``nn.BatchNorm2d``: the fused block end then recomputes the shortcut in backward
        instead of keeping it (the BN keeps its input anyway)."""
        if self.downsample is None:
            return x, None
        if not isinstance(self.downsample, nn.Sequential) or (
                type(self.downsample[-1]) is not nn.BatchNorm2d):
            return self.downsample(x), None
        *head, norm = self.downsample
        for layer in head:
            x = layer(x)
        return norm(x), (x, norm)

    def mid_channels(self, planes):
        """Output channels of the 3x3 conv (bottlenecks; a basic block's is its output)."""
        return self.conv2.out_channels

    def forward(self, x):
        """The block with its attention layer; at the standard position the scale, the add and
        the ReLU are one function that keeps no copy of the scaled branch for backward."""

        def _inner_forward(x):
            identity, shortcut_bn = self.shortcut(x)
            se, position = self.se_layer, self.se_position
            if se is not None and position == 'pre':
                x = se(x)
            out = self.residual(x)
            if self.act_before_se:
                out = self.relu(out)
            if se is None or position in ('pre', 'after_conv2'):
                return self.add_relu(out, identity)
            if position == 'identity':
                return self.add_relu(out, se(identity))
            if position == 'post':
                return se(self.add_relu(out, identity))
            if getattr(se, 'fusable', False):
                return scale_add_relu(out, se.gate(out), identity, inplace=True,
                                      shortcut_bn=shortcut_bn)
            return self.relu(se(out) + identity)

        if self.with_cp and x.requires_grad:
            return cp.checkpoint(_inner_forward, x, use_reentrant=False)
        return _inner_forward(x)

    def add_relu(self, out, identity):
        """``relu(out + identity)`` written into ``out``, as mmdet's blocks do: ``out`` is the
        branch's own temporary, whose last op (a norm or a plugin) keeps no copy of it for
        backward; a fresh tensor per block would cost time (page faults) for nothing. Not in
        place after ``act_before_se``'s ReLU, which keeps its output."""
        if self.act_before_se:
            return self.relu(out + identity)
        out += identity
        return self.relu(out)


class SEBasicBlock(SEBlockMixin, BasicBlock):
    """mmdet's ``BasicBlock`` (two 3x3 convs) with SE before the add."""

    last_norm = 'norm2'

    def residual(self, x):
        out = self.relu(self.norm1(self.conv1(x)))
        return self.norm2(self.conv2(out))


class PluginBuildError(Exception):
    """A plugin config did not build in a block; the backbone reports it as ``plugins``."""


class SEBottleneck(SEBlockMixin, Bottleneck):
    """mmdet's ``Bottleneck`` (1x1, 3x3, 1x1 convs and plugins) with SE before the add."""

    last_norm = 'norm3'

    def make_block_plugins(self, in_channels, plugins):
        """mmdet's, with any failure (unknown type, duplicate name, a plugin that does not fit
        ``in_channels``) raised as one :class:`PluginBuildError`."""
        try:
            return super().make_block_plugins(in_channels, plugins)
        except Exception as error:
            reason = ' '.join(str(error).split())[:200]
            raise PluginBuildError(f'{type(error).__name__} at in_channels={in_channels}: '
                                   f'{reason}') from error

    def residual(self, x):
        out = self.relu(self.norm1(self.conv1(x)))
        if self.with_plugins:
            out = self.forward_plugin(out, self.after_conv1_plugin_names)
        out = self.relu(self.norm2(self.conv2(out)))
        if self.se_layer is not None and self.se_position == 'after_conv2':
            out = self.se_layer(out)
        if self.with_plugins:
            out = self.forward_plugin(out, self.after_conv2_plugin_names)
        out = self.norm3(self.conv3(out))
        if self.with_plugins:
            out = self.forward_plugin(out, self.after_conv3_plugin_names)
        return out


TIMM_PREFIX = 'timm://'


def per_stage(owner, name, value, num_stages, kind):
    """``value`` for each stage: a scalar broadcast, or a sequence of ``num_stages`` items."""
    values = tuple(value) if isinstance(value, (list, tuple)) else (value, ) * num_stages
    ok = all(isinstance(v, bool) if kind is bool else is_int(v) and v > 0 for v in values)
    if len(values) != num_stages or not ok:
        item = 'bool' if kind is bool else 'positive int'
        fail(owner, name, value, f'one {item} or {num_stages} of them (one per stage, '
             f'num_stages={num_stages})')
    return values


GROUPED_CONV_HINTS = {
    key: "grouped convs are se_backbones.SEResNeXt: type='se_backbones.SEResNeXt', groups=32, "
         'base_width=4' for key in ('groups', 'base_width')}
RESNET_DEFAULTS = {name: p.default for name, p in
                   inspect.signature(ResNet.__init__).parameters.items()
                   if p.default is not inspect.Parameter.empty}
PLUGIN_POSITIONS = ('after_conv1', 'after_conv2', 'after_conv3')


def check_resnet_args(owner, num_stages, last_stage_blocks, bottleneck, kwargs):
    """Check the mmdet/mmseg ResNet arguments (``kwargs``, defaults filled in) up front: the
    parent class would fail late, with an assertion or a KeyError, or not at all."""
    a = {**RESNET_DEFAULTS, **kwargs}
    for name in ('in_channels', 'base_channels'):
        check_positive_int(owner, name, a[name])
    for name in ('strides', 'dilations'):
        check_ints(owner, name, a[name], length=num_stages)
    check_ints(owner, 'out_indices', a['out_indices'], minimum=0, maximum=num_stages - 1)
    if len(set(a['out_indices'])) != len(a['out_indices']):
        fail(owner, 'out_indices', a['out_indices'], 'distinct stage indices')
    check_choice(owner, 'style', a['style'], ('pytorch', 'caffe'))
    for name in ('deep_stem', 'avg_down', 'norm_eval', 'contract_dilation', 'with_cp',
                 'zero_init_residual'):
        check_bool(owner, name, a[name])
    if not is_int(a['frozen_stages']) or not -1 <= a['frozen_stages'] <= num_stages:
        fail(owner, 'frozen_stages', a['frozen_stages'], f'an int in [-1, {num_stages}]')
    check_layer_cfg(owner, 'conv_cfg', a['conv_cfg'], 'conv', optional=True)
    check_layer_cfg(owner, 'norm_cfg', a['norm_cfg'], 'norm')
    if a['dcn'] is not None:
        if not isinstance(a['dcn'], dict) or 'type' not in a['dcn']:
            fail(owner, 'dcn', a['dcn'], "None or a conv config dict (e.g. dict(type='DCN', "
                 'deform_groups=1, fallback_on_stride=False))', TypeError)
        with_dcn = per_stage(owner, 'stage_with_dcn', a['stage_with_dcn'], num_stages, bool)
        if any(with_dcn) and not bottleneck:
            fail(owner, 'stage_with_dcn', a['stage_with_dcn'], 'all False with basic blocks '
                 '(depth 18, 34: DCN needs bottleneck blocks)')
        if any(with_dcn) and a['conv_cfg'] is not None:
            fail(owner, 'conv_cfg', a['conv_cfg'], 'None with DCN stages (mmdet builds their '
                 '3x3 convs from dcn)')
    if a['plugins'] is not None:
        plugins_ok = isinstance(a['plugins'], (list, tuple)) and all(
            isinstance(p, dict) and isinstance(p.get('cfg'), dict)
            and p.get('position') in PLUGIN_POSITIONS for p in a['plugins'])
        if not plugins_ok or not bottleneck:
            fail(owner, 'plugins', a['plugins'], 'None or a list of dict(cfg=dict(type=...), '
                 f'position=one of {PLUGIN_POSITIONS}, stages=optional), with bottleneck '
                 'blocks (depth >= 26)')
        for plugin in a['plugins']:
            if plugin.get('stages') is not None:
                per_stage(owner, 'plugins[].stages', plugin['stages'], num_stages, bool)
    if a['multi_grid'] is not None:
        check_ints(owner, 'multi_grid', a['multi_grid'], length=last_stage_blocks)
    if a['pretrained'] is not None and not isinstance(a['pretrained'], str):
        fail(owner, 'pretrained', a['pretrained'], "None, a checkpoint path or 'timm://<name>'",
             TypeError)
    init_cfg = a['init_cfg']
    if init_cfg is not None and not (isinstance(init_cfg, dict) or isinstance(
            init_cfg, list) and all(isinstance(c, dict) for c in init_cfg)):
        fail(owner, 'init_cfg', init_cfg, 'None, a dict or a list of dicts', TypeError)


def timm_shorthand(owner, pretrained, init_cfg):
    """``pretrained='timm://<name>'`` as ``init_cfg=dict(type='se_backbones.TimmPretrained',
    model_name=<name>)``; returns ``(pretrained, init_cfg)``."""
    if isinstance(pretrained, str) and pretrained.startswith(TIMM_PREFIX):
        if init_cfg is not None:
            raise ValueError(f'{owner}: set pretrained or init_cfg, not both')
        return None, dict(type='se_backbones.TimmPretrained',
                          model_name=pretrained[len(TIMM_PREFIX):])
    return pretrained, init_cfg


def stem_widths(owner, stem_channels, base_channels, deep_stem):
    """The three deep-stem conv widths (the last one is the plain stem's width): given, or
    ``(c // 2, c // 2, c)`` for one width ``c`` (default: ``base_channels``)."""
    if stem_channels is None:
        stem_channels = base_channels
    if isinstance(stem_channels, (list, tuple)):
        if not deep_stem:
            fail(owner, 'stem_channels', stem_channels, 'one positive int (3 only with '
                 'deep_stem=True)')
        check_ints(owner, 'stem_channels', stem_channels, length=3)
        return tuple(stem_channels)
    check_positive_int(owner, 'stem_channels', stem_channels)
    if deep_stem and stem_channels < 2:
        fail(owner, 'stem_channels', stem_channels, 'at least 2 with deep_stem=True')
    return stem_channels // 2, stem_channels // 2, stem_channels


@contextlib.contextmanager
def one_line_build_errors(owner, kwargs):
    """What fails only while the parent builds the layers, as our one-line errors: a plugin
    that does not build, a GroupNorm whose num_groups does not divide a width."""
    try:
        yield
    except PluginBuildError as error:
        fail(owner, 'plugins', kwargs.get('plugins'), 'plugin configs that build in every '
             f'block with distinct names (cfg postfix) ({error})')
    except ValueError as error:  # torch's GroupNorm
        if 'divisible by num_groups' not in str(error):
            raise
        fail(owner, 'norm_cfg', kwargs.get('norm_cfg'), 'a norm whose num_groups divides every '
             f'layer width ({error})')


@MODELS.register_module()
class SEResNet(ResNet):
    """SE-ResNet backbone (Hu et al., `SENet <https://arxiv.org/abs/1709.01507>`_).

    A ResNet whose blocks scale their residual branch with an :class:`SELayer` before the
    identity add. It subclasses mmseg's ``ResNet``, so it takes the whole mmdet/mmseg ResNet
    argument surface (``in_channels``, ``strides``, ``dilations``, ``out_indices``, ``style``,
    ``deep_stem``, ``avg_down``, ``frozen_stages``, ``conv_cfg``, ``norm_cfg``, ``dcn``,
    ``stage_with_dcn``, ``plugins``, ``multi_grid``, ``contract_dilation``, ``with_cp``,
    ``pretrained``, ``init_cfg``); with SE switched off in every stage it is that ResNet, key for
    key. State-dict keys match mmpretrain's ``SEResNet`` (``layer1.0.se_layer.conv1.conv.weight``).

    Args:
        depth (int): 18 or 34 (SE BasicBlock), 26, 50, 101, 152, 200 or 269 (SE Bottleneck).
        se_ratio (int | Sequence[int], optional): SE reduction ratio ``r``, one for all stages
            or one per stage. Default: None, meaning 16 (an :class:`SELayer`'s only).
        stage_with_se (Sequence[bool], optional): Whether each stage has SE. Default: all do.
        se_cfg (dict, optional): The attention layer: ``type`` (``'SELayer'``, the default, or
            ``'ECALayer'``) and its further arguments (SELayer: ``divisor``, ``bias``,
            ``act_cfg``, ``squeeze``, ``gate``, ...; ECALayer: ``kernel_size``, ``gamma``,
            ``b``, ``squeeze``, ``gate``). Default: None.
        se_position (str): ``'standard'``, ``'pre'``, ``'post'``, ``'identity'`` or
            ``'after_conv2'``; see :class:`SEBlockMixin`. Default: 'standard'.
        stem_channels (int | Sequence[int], optional): Stem width. With ``deep_stem``, three
            widths set the three stem convs (timm's tiered stem: ``(24, 32, 64)``); one width
            ``c`` means ``(c // 2, c // 2, c)``. Default: None, meaning ``base_channels``.
        stem_pool_cfg (dict): ``nn.MaxPool2d`` arguments of the stem pool. Default:
            ``dict(kernel_size=3, stride=2, padding=1)``; Caffe SENet uses
            ``dict(kernel_size=3, stride=2, padding=0, ceil_mode=True)``.
        act_before_se (bool): ReLU on the residual branch before SE, as Caffe SENet's basic
            block (timm ``legacy_seresnet18/34``). Default: False.
        base_channels (int): Width of the first stage's blocks. Default: 64.
        num_stages (int): Number of stages, 1 to 4. Default: 4.
        norm_eval (bool): Keep BN layers in eval mode while training (mmdet configs set it).
            Default: False, as mmseg and mmpretrain.
        zero_init_residual (bool): Zero-init the last norm of every block, so it starts as the
            identity. Default: True.
        pretrained (str, optional): A checkpoint path (MMEngine ``Pretrained``), or
            ``'timm://<timm name>'`` for ``init_cfg=dict(type='se_backbones.TimmPretrained',
            model_name=<timm name>)``. Default: None.
        init_cfg (dict | list[dict], optional): Initialization config; a
            ``se_backbones.TimmPretrained`` entry is applied last. Default: None.
        **kwargs: The other mmdet/mmseg ``ResNet`` arguments listed above.

    Example:
        >>> import torch
        >>> from se_backbones import SEResNet
        >>> model = SEResNet(depth=50, out_indices=(0, 1, 2, 3)).eval()
        >>> [tuple(f.shape) for f in model(torch.rand(1, 3, 64, 64))]
        [(1, 256, 16, 16), (1, 512, 8, 8), (1, 1024, 4, 4), (1, 2048, 2, 2)]
    """

    arch_settings = {
        18: (SEBasicBlock, (2, 2, 2, 2)),
        34: (SEBasicBlock, (3, 4, 6, 3)),
        26: (SEBottleneck, (2, 2, 2, 2)),
        50: (SEBottleneck, (3, 4, 6, 3)),
        101: (SEBottleneck, (3, 4, 23, 3)),
        152: (SEBottleneck, (3, 8, 36, 3)),
        200: (SEBottleneck, (3, 24, 36, 3)),
        269: (SEBottleneck, (3, 30, 48, 8)),
    }

    def __init__(self,
                 depth,
                 se_ratio=None,
                 stage_with_se=None,
                 se_cfg=None,
                 se_position='standard',
                 stem_channels=None,
                 stem_pool_cfg=dict(kernel_size=3, stride=2, padding=1),
                 act_before_se=False,
                 base_channels=64,
                 num_stages=4,
                 deep_stem=False,
                 norm_eval=False,
                 zero_init_residual=True,
                 pretrained=None,
                 init_cfg=None,
                 **kwargs):
        name = type(self).__name__
        check_known_args(name, kwargs, self.argument_names(), GROUPED_CONV_HINTS)
        block = self._check_depth(name, depth, num_stages, dict(
            kwargs, deep_stem=deep_stem, base_channels=base_channels, norm_eval=norm_eval,
            zero_init_residual=zero_init_residual, pretrained=pretrained, init_cfg=init_cfg))
        self._set_attention(name, block, num_stages, se_ratio, stage_with_se, se_cfg,
                            se_position, act_before_se)
        pretrained, init_cfg = timm_shorthand(name, pretrained, init_cfg)
        if not isinstance(stem_pool_cfg, dict):
            fail(name, 'stem_pool_cfg', stem_pool_cfg, 'a dict of nn.MaxPool2d arguments',
                 TypeError)
        self.stem_pool_cfg = dict(stem_pool_cfg)
        self.deep_stem_channels = stem_widths(name, stem_channels, base_channels, deep_stem)
        # mmseg's ResNet picks the zero-init norm by `block is Bottleneck`, which SE blocks are
        # not; make_res_layer gives the blocks that init_cfg instead.
        self.zero_init_blocks = zero_init_residual and pretrained is None and init_cfg is None
        with one_line_build_errors(name, kwargs):
            super().__init__(
                depth,
                stem_channels=self.deep_stem_channels[-1],
                base_channels=base_channels,
                num_stages=num_stages,
                deep_stem=deep_stem,
                norm_eval=norm_eval,
                zero_init_residual=zero_init_residual,
                pretrained=pretrained,
                init_cfg=init_cfg,
                **kwargs)

    def _check_depth(self, name, depth, num_stages, resnet_args):
        """Check depth, num_stages and the ResNet arguments; return the block class."""
        check_choice(name, 'depth', depth, sorted(self.arch_settings))
        check_choice(name, 'num_stages', num_stages, (1, 2, 3, 4))
        block, stage_blocks = self.arch_settings[depth]
        check_resnet_args(name, num_stages, stage_blocks[num_stages - 1], block.expansion == 4,
                          resnet_args)
        return block

    def _set_attention(self, name, block, num_stages, se_ratio, stage_with_se, se_cfg,
                       se_position, act_before_se):
        """Check the SE arguments and keep what make_res_layer gives each stage's blocks: the
        attention class (resolved here, once), its config, the ratio and flag per stage."""
        check_bool(name, 'act_before_se', act_before_se)
        if se_cfg is not None and not isinstance(se_cfg, dict):
            fail(name, 'se_cfg', se_cfg, 'None or a dict: the attention layer\'s type '
                 '(default SELayer) and arguments', TypeError)
        se_cfg = dict(se_cfg or {})
        for key in ('channels', 'ratio'):
            if key in se_cfg:
                fail(name, 'se_cfg', se_cfg, f'free of {key!r} (it comes from the block width '
                     'and se_ratio)')
        attention = attention_class(se_cfg.get('type', 'SELayer'))
        if attention is None or not hasattr(attention, 'gate'):
            fail(name, "se_cfg['type']", se_cfg.get('type'), 'an attention layer registered in '
                 'se_backbones.MODELS with a gate() method: SELayer or ECALayer')
        check_choice(name, 'se_position', se_position, SE_POSITIONS)
        if se_position == 'after_conv2' and block.expansion == 1:
            fail(name, 'se_position', se_position, "one of 'standard', 'pre', 'post', "
                 "'identity' with basic blocks (depth 18, 34; 'after_conv2' needs bottlenecks)")
        self.uses_ratio = issubclass(attention, SELayer)
        if not self.uses_ratio and se_ratio is not None:
            fail(name, 'se_ratio', se_ratio, f'None with se_cfg type {attention.__name__} (it '
                 'has no reduction ratio)')
        self.attention = attention
        self.se_cfg = se_cfg
        self.se_ratio = per_stage(name, 'se_ratio', 16 if se_ratio is None else se_ratio,
                                  num_stages, int)
        self.stage_with_se = per_stage(name, 'stage_with_se',
                                       True if stage_with_se is None else stage_with_se,
                                       num_stages, bool)
        self.se_position = se_position
        self.act_before_se = act_before_se

    @classmethod
    def argument_names(cls):
        """Every argument this backbone takes: its own, its subclasses' up to this class, and
        the mmdet/mmseg ``ResNet`` ones."""
        names = set(RESNET_DEFAULTS)
        for klass in cls.__mro__[:cls.__mro__.index(SEResNet) + 1]:
            if '__init__' in vars(klass):
                names.update(p.name for p in inspect.signature(klass.__init__).parameters.values()
                             if p.kind is p.POSITIONAL_OR_KEYWORD and p.name != 'self')
        return sorted(names)

    def make_res_layer(self, **kwargs):
        """Build one stage, adding its SE config and the zero-init of its blocks."""
        stage = len(self.res_layers)  # mmseg's ResNet appends each stage once it is built
        if self.stage_with_se[stage]:
            kwargs['se_cfg'] = dict(self.se_cfg, type=self.attention, **(
                dict(ratio=self.se_ratio[stage]) if self.uses_ratio else {}))
        kwargs['act_before_se'] = self.act_before_se
        kwargs['se_position'] = self.se_position
        if self.zero_init_blocks:
            kwargs['init_cfg'] = dict(
                type='Constant', val=0, override=dict(name=self.block.last_norm))
        return super().make_res_layer(**kwargs)

    def _make_stem_layer(self, in_channels, stem_channels):
        """mmseg's stem, with the deep stem's widths and the stem pool configurable."""
        super()._make_stem_layer(in_channels, stem_channels)
        if self.deep_stem:  # same keys as mmseg's: stem.{0,1,3,4,6,7}
            layers = []
            for i, width in enumerate(self.deep_stem_channels):
                layers += [
                    build_conv_layer(self.conv_cfg, in_channels, width, kernel_size=3,
                                     stride=2 if i == 0 else 1, padding=1, bias=False),
                    build_norm_layer(self.norm_cfg, width)[1],
                    nn.ReLU(inplace=True)]
                in_channels = width
            self.stem = nn.Sequential(*layers)
        self.maxpool = nn.MaxPool2d(**self.stem_pool_cfg)

    def init_weights(self):
        """MMEngine's init, then any ``TimmPretrained`` entry of ``init_cfg`` (see
        :func:`se_backbones.weights.init_weights_then_timm`)."""
        init_weights_then_timm(self, super().init_weights)

    # The attributes that define the architecture beyond tensor shapes: weights converted for
    # one architecture fit another of the same shapes only if these agree too.
    ARCHITECTURE_ATTRS = ('depth', 'groups', 'base_width', 'style', 'deep_stem', 'avg_down',
                          'deep_stem_channels', 'stem_pool_cfg', 'act_before_se', 'se_cfg',
                          'se_position')

    def architecture(self):
        """The class name and the values of :attr:`ARCHITECTURE_ATTRS`."""
        return dict(type=type(self).__name__,
                    **{name: getattr(self, name, None) for name in self.ARCHITECTURE_ATTRS})

    def train(self, mode=True):
        """As mmseg's (frozen stages and ``norm_eval`` stay in eval mode), but returns self."""
        super().train(mode)
        return self
