import inspect

import torch.nn as nn
from mmcv.cnn import build_conv_layer, build_norm_layer
from mmseg.models.backbones.resnet import ResNet

from ..checks import check_bool, check_choice, check_known_args, fail, per_stage
from ..registry import MODELS
from ..resnet_checks import GROUPED_CONV_HINTS, check_resnet_args, resnet_defaults
from ..weights import init_weights_then_timm, is_timm_init
from .arguments import attention_type, one_line_build_errors, stem_widths, timm_shorthand
from .se_blocks import SE_POSITIONS, SEBasicBlock, SEBottleneck


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
        stem_pool_cfg (dict, optional): ``nn.MaxPool2d`` arguments of the stem pool. Default:
            None, meaning ``dict(kernel_size=3, stride=2, padding=1)``; Caffe SENet uses
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

    # mmseg's ResNet init without init_cfg, also used under init_cfg=TimmPretrained(...)
    DEFAULT_INIT_CFG = [
        dict(type='Kaiming', layer='Conv2d'),
        dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm']),
    ]

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

    def __init__(
        self,
        depth,
        se_ratio=None,
        stage_with_se=None,
        se_cfg=None,
        se_position='standard',
        stem_channels=None,
        stem_pool_cfg=None,
        act_before_se=False,
        base_channels=64,
        num_stages=4,
        deep_stem=False,
        norm_eval=False,
        zero_init_residual=True,
        pretrained=None,
        init_cfg=None,
        **kwargs,
    ):
        if stem_pool_cfg is None:
            stem_pool_cfg = dict(kernel_size=3, stride=2, padding=1)
        name = type(self).__name__
        check_known_args(name, kwargs, self.argument_names(), GROUPED_CONV_HINTS)
        block = self._check_depth(
            name,
            depth,
            num_stages,
            dict(
                kwargs,
                deep_stem=deep_stem,
                base_channels=base_channels,
                norm_eval=norm_eval,
                zero_init_residual=zero_init_residual,
                pretrained=pretrained,
                init_cfg=init_cfg,
            ),
        )
        self._set_attention(
            name, block, num_stages, se_ratio, stage_with_se, se_cfg, se_position, act_before_se
        )
        pretrained, init_cfg = timm_shorthand(name, pretrained, init_cfg)
        if not isinstance(stem_pool_cfg, dict):
            fail(
                name, 'stem_pool_cfg', stem_pool_cfg, 'a dict of nn.MaxPool2d arguments', TypeError
            )
        self.stem_pool_cfg = dict(stem_pool_cfg)
        self.deep_stem_channels = stem_widths(name, stem_channels, base_channels, deep_stem)
        # mmseg's ResNet picks the zero-init norm by `block is Bottleneck`, which SE blocks are
        # not; make_res_layer gives the blocks that init_cfg instead (also under timm weights,
        # which overwrite it, or which missing_ok may leave out)
        self.zero_init_blocks = (
            zero_init_residual
            and pretrained is None
            and all(
                is_timm_init(cfg)
                for cfg in (init_cfg if isinstance(init_cfg, list) else [init_cfg])
                if cfg is not None
            )
        )
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
                **kwargs,
            )

    def _check_depth(self, name, depth, num_stages, resnet_args):
        """Check depth, num_stages and the ResNet arguments; return the block class."""
        check_choice(name, 'depth', depth, sorted(self.arch_settings), toolkit=KeyError)
        check_choice(name, 'num_stages', num_stages, (1, 2, 3, 4), toolkit=AssertionError)
        block, stage_blocks = self.arch_settings[depth]
        check_resnet_args(
            name, num_stages, stage_blocks[num_stages - 1], block.expansion == 4, resnet_args
        )
        return block

    def _set_attention(
        self, name, block, num_stages, se_ratio, stage_with_se, se_cfg, se_position, act_before_se
    ):
        """Check the SE arguments and keep what make_res_layer gives each stage's blocks: the
        attention class (resolved here, once), its config, the ratio and flag per stage."""
        check_bool(name, 'act_before_se', act_before_se)
        attention, se_cfg = attention_type(name, se_cfg)
        check_choice(name, 'se_position', se_position, SE_POSITIONS)
        if se_position == 'after_conv2' and block.expansion == 1:
            fail(
                name,
                'se_position',
                se_position,
                "one of 'standard', 'pre', 'post', "
                "'identity' with basic blocks (depth 18, 34; 'after_conv2' needs bottlenecks)",
            )
        self.uses_ratio = attention.takes_ratio
        if not self.uses_ratio and se_ratio is not None:
            fail(
                name,
                'se_ratio',
                se_ratio,
                f'None with se_cfg type {attention.__name__} (it has no reduction ratio)',
            )
        self.attention = attention
        self.se_cfg = se_cfg
        self.se_ratio = per_stage(
            name, 'se_ratio', 16 if se_ratio is None else se_ratio, num_stages, int
        )
        self.stage_with_se = per_stage(
            name,
            'stage_with_se',
            True if stage_with_se is None else stage_with_se,
            num_stages,
            bool,
        )
        self.se_position = se_position
        self.act_before_se = act_before_se

    @classmethod
    def argument_names(cls):
        """Every argument this backbone takes: its own, its subclasses' up to this class, and
        the mmdet/mmseg ``ResNet`` ones."""
        names = set(resnet_defaults())
        for klass in cls.__mro__[: cls.__mro__.index(SEResNet) + 1]:
            if '__init__' in vars(klass):
                names.update(
                    p.name
                    for p in inspect.signature(klass.__init__).parameters.values()
                    if p.kind is p.POSITIONAL_OR_KEYWORD and p.name != 'self'
                )
        return sorted(names)

    def make_res_layer(self, **kwargs):
        """Build one stage, adding its SE config and the zero-init of its blocks."""
        stage = len(self.res_layers)  # mmseg's ResNet appends each stage once it is built
        if self.stage_with_se[stage]:
            kwargs['se_cfg'] = dict(
                self.se_cfg,
                type=self.attention,
                **(dict(ratio=self.se_ratio[stage]) if self.uses_ratio else {}),
            )
        kwargs['act_before_se'] = self.act_before_se
        kwargs['se_position'] = self.se_position
        if self.zero_init_blocks:
            kwargs['init_cfg'] = dict(
                type='Constant', val=0, override=dict(name=self.block.last_norm)
            )
        return super().make_res_layer(**kwargs)

    def _make_stem_layer(self, in_channels, stem_channels):
        """mmseg's stem, with the deep stem's widths and the stem pool configurable."""
        super()._make_stem_layer(in_channels, stem_channels)
        if self.deep_stem:  # same keys as mmseg's: stem.{0,1,3,4,6,7}
            layers = []
            for i, width in enumerate(self.deep_stem_channels):
                layers += [
                    build_conv_layer(
                        self.conv_cfg,
                        in_channels,
                        width,
                        kernel_size=3,
                        stride=2 if i == 0 else 1,
                        padding=1,
                        bias=False,
                    ),
                    build_norm_layer(self.norm_cfg, width)[1],
                    nn.ReLU(inplace=True),
                ]
                in_channels = width
            self.stem = nn.Sequential(*layers)
        self.maxpool = nn.MaxPool2d(**self.stem_pool_cfg)

    def init_weights(self):
        """MMEngine's init, then any ``TimmPretrained`` entry of ``init_cfg`` (see
        :func:`se_backbones.weights.init_weights_then_timm`)."""
        init_weights_then_timm(self, super().init_weights)

    # The attributes that define the architecture beyond tensor shapes: weights converted for
    # one architecture fit another of the same shapes only if these agree too.
    ARCHITECTURE_ATTRS = (
        'depth',
        'groups',
        'base_width',
        'style',
        'deep_stem',
        'avg_down',
        'deep_stem_channels',
        'stem_pool_cfg',
        'act_before_se',
        'se_cfg',
        'se_position',
    )

    def architecture(self):
        """The class name and the values of :attr:`ARCHITECTURE_ATTRS`."""
        return dict(
            type=type(self).__name__,
            **{name: getattr(self, name, None) for name in self.ARCHITECTURE_ATTRS},
        )

    def train(self, mode=True):
        """As mmseg's (frozen stages and ``norm_eval`` stay in eval mode), but returns self."""
        super().train(mode)
        return self
