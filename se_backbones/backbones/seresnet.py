import torch.utils.checkpoint as cp
from mmdet.models.backbones.resnet import BasicBlock, Bottleneck
from mmseg.models.backbones.resnet import ResNet

from ..layers import SELayer
from ..registry import MODELS


class SEBlockMixin:
    """Puts an optional ``se_layer`` on a ResNet block's residual branch, before the add.

    The host block (mmdet ``BasicBlock``/``Bottleneck`` or ResNeXt's) keeps its layers and
    state-dict keys; the subclass gives ``residual(x)``, the branch up to its last norm, and
    ``last_norm``, the name zero-initialised by ``zero_init_residual``.

    Args:
        inplanes (int): Input channels of the block.
        planes (int): Base width; the block outputs ``planes * expansion`` channels.
        se_cfg (dict, optional): Keyword arguments of :class:`SELayer`; None means no SE.
        **kwargs: Arguments of the host block.
    """

    def __init__(self, inplanes, planes, se_cfg=None, **kwargs):
        super().__init__(inplanes, planes, **kwargs)
        self.se_layer = None if se_cfg is None else SELayer(planes * self.expansion, **se_cfg)

    def forward(self, x):
        """relu(se(residual(x)) + identity(x))."""

        def _inner_forward(x):
            out = self.residual(x)
            if self.se_layer is not None:
                out = self.se_layer(out)
            identity = x if self.downsample is None else self.downsample(x)
            return out + identity

        if self.with_cp and x.requires_grad:
            out = cp.checkpoint(_inner_forward, x, use_reentrant=False)
        else:
            out = _inner_forward(x)
        return self.relu(out)


class SEBasicBlock(SEBlockMixin, BasicBlock):
    """mmdet's ``BasicBlock`` (two 3x3 convs) with SE before the add."""

    last_norm = 'norm2'

    def residual(self, x):
        out = self.relu(self.norm1(self.conv1(x)))
        return self.norm2(self.conv2(out))


class SEBottleneck(SEBlockMixin, Bottleneck):
    """mmdet's ``Bottleneck`` (1x1, 3x3, 1x1 convs and plugins) with SE before the add."""

    last_norm = 'norm3'

    def residual(self, x):
        out = self.relu(self.norm1(self.conv1(x)))
        if self.with_plugins:
            out = self.forward_plugin(out, self.after_conv1_plugin_names)
        out = self.relu(self.norm2(self.conv2(out)))
        if self.with_plugins:
            out = self.forward_plugin(out, self.after_conv2_plugin_names)
        out = self.norm3(self.conv3(out))
        if self.with_plugins:
            out = self.forward_plugin(out, self.after_conv3_plugin_names)
        return out


def per_stage(owner, name, value, num_stages, kind):
    """``value`` for each stage: a scalar broadcast, or a sequence of ``num_stages`` items."""
    values = tuple(value) if isinstance(value, (list, tuple)) else (value, ) * num_stages
    if len(values) != num_stages:
        raise ValueError(f'{owner}: {name} must be one {kind.__name__} or {num_stages} of them '
                         f'(one per stage, num_stages={num_stages}), got {value!r}')
    for v in values:
        if not isinstance(v, kind) or (kind is not bool and (isinstance(v, bool) or v <= 0)):
            allowed = 'bools' if kind is bool else f'positive {kind.__name__}s'
            raise ValueError(f'{owner}: {name} must hold {allowed}, got {value!r}')
    return values


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
        depth (int): 18 or 34 (SE BasicBlock), 50, 101 or 152 (SE Bottleneck).
        se_ratio (int | Sequence[int]): SE reduction ratio ``r``, one for all stages or one per
            stage. Default: 16.
        stage_with_se (Sequence[bool], optional): Whether each stage has SE. Default: all do.
        se_cfg (dict, optional): Further :class:`SELayer` arguments (``divisor``, ``bias``,
            ``act_cfg``, ``conv_cfg``, ``squeeze_channels``). Default: None.
        stem_channels (int, optional): Stem width. Default: None, meaning ``base_channels``.
        base_channels (int): Width of the first stage's blocks. Default: 64.
        num_stages (int): Number of stages, 1 to 4. Default: 4.
        norm_eval (bool): Keep BN layers in eval mode while training (mmdet configs set it).
            Default: False, as mmseg and mmpretrain.
        zero_init_residual (bool): Zero-init the last norm of every block, so it starts as the
            identity. Default: True.
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
        50: (SEBottleneck, (3, 4, 6, 3)),
        101: (SEBottleneck, (3, 4, 23, 3)),
        152: (SEBottleneck, (3, 8, 36, 3)),
    }

    def __init__(self,
                 depth,
                 se_ratio=16,
                 stage_with_se=None,
                 se_cfg=None,
                 stem_channels=None,
                 base_channels=64,
                 num_stages=4,
                 norm_eval=False,
                 zero_init_residual=True,
                 pretrained=None,
                 init_cfg=None,
                 **kwargs):
        name = type(self).__name__
        if depth not in self.arch_settings:
            raise ValueError(f'{name}: depth must be one of {sorted(self.arch_settings)}, '
                             f'got {depth!r}')
        if num_stages not in (1, 2, 3, 4):
            raise ValueError(f'{name}: num_stages must be 1, 2, 3 or 4, got {num_stages!r}')
        if se_cfg is not None and not isinstance(se_cfg, dict):
            raise TypeError(f'{name}: se_cfg must be a dict of SELayer arguments or None, '
                            f'got {se_cfg!r}')
        se_cfg = dict(se_cfg or {})
        for key in ('channels', 'ratio'):
            if key in se_cfg:
                raise ValueError(f'{name}: se_cfg must not set {key!r}; it comes from the '
                                 'block width and se_ratio')
        self.se_ratio = per_stage(name, 'se_ratio', se_ratio, num_stages, int)
        self.stage_with_se = per_stage(name, 'stage_with_se',
                                       True if stage_with_se is None else stage_with_se,
                                       num_stages, bool)
        self.se_cfg = se_cfg
        # mmseg's ResNet picks the zero-init norm by `block is Bottleneck`, which SE blocks are
        # not; make_res_layer gives the blocks that init_cfg instead.
        self.zero_init_blocks = zero_init_residual and pretrained is None and init_cfg is None
        super().__init__(
            depth,
            stem_channels=base_channels if stem_channels is None else stem_channels,
            base_channels=base_channels,
            num_stages=num_stages,
            norm_eval=norm_eval,
            zero_init_residual=zero_init_residual,
            pretrained=pretrained,
            init_cfg=init_cfg,
            **kwargs)

    def make_res_layer(self, **kwargs):
        """Build one stage, adding its SE config and the zero-init of its blocks."""
        stage = len(self.res_layers)  # mmseg's ResNet appends each stage once it is built
        if self.stage_with_se[stage]:
            kwargs['se_cfg'] = dict(self.se_cfg, ratio=self.se_ratio[stage])
        if self.zero_init_blocks:
            kwargs['init_cfg'] = dict(
                type='Constant', val=0, override=dict(name=self.block.last_norm))
        return super().make_res_layer(**kwargs)

    def train(self, mode=True):
        """As mmseg's (frozen stages and ``norm_eval`` stay in eval mode), but returns self."""
        super().train(mode)
        return self
