import torch.nn as nn
from mmcv.cnn import ConvModule

from ..checks import check_layer_cfg, check_number, check_positive_int, fail
from ..registry import MODELS
from .attention import ChannelAttention
from .make_divisible import make_divisible
from .squeeze_gate import (
    LOW_PRECISION,
    check_squeeze,
    gate_cfg,
    is_compiling,
    is_fusable,
    records_grad,
    squeeze,
)


def _checked(channels, squeeze_channels, ratio, divisor, bias, conv_cfg, act_cfg, squeeze, gate):
    """:class:`SELayer`'s arguments checked: the squeeze width and the pair of activations."""
    check_positive_int('SELayer', 'channels', channels)
    if squeeze_channels is None:
        check_number('SELayer', 'ratio', ratio)
        check_positive_int('SELayer', 'divisor', divisor)
        squeeze_channels = make_divisible(channels / ratio, divisor)
    check_positive_int('SELayer', 'squeeze_channels', squeeze_channels)
    if not isinstance(bias, bool) and bias != 'auto':
        fail('SELayer', 'bias', bias, "'auto', True or False")
    check_layer_cfg('SELayer', 'conv_cfg', conv_cfg, 'conv', optional=True)
    if isinstance(act_cfg, dict):
        act_cfg = (act_cfg, act_cfg)
    if not isinstance(act_cfg, (tuple, list)) or len(act_cfg) != 2:
        fail('SELayer', 'act_cfg', act_cfg, 'a dict or a pair of dicts')
    for i, cfg in enumerate(act_cfg):
        check_layer_cfg('SELayer', f'act_cfg[{i}]', cfg, 'activation', optional=True)
    check_squeeze('SELayer', squeeze)
    if gate is not None:
        act_cfg = (act_cfg[0], gate_cfg('SELayer', gate))
    return squeeze_channels, act_cfg


@MODELS.register_module()
class SELayer(ChannelAttention):
    """Squeeze-and-Excitation layer (Hu et al., `SENet <https://arxiv.org/abs/1709.01507>`_).

    A :class:`~se_backbones.layers.attention.ChannelAttention` that takes the backbone's
    ``se_ratio``. Squeeze: global average pooling to one value per channel. Excitation: a 1x1 conv
    ``channels -> squeeze_channels`` with the first activation, a 1x1 conv back to ``channels``
    with the gate activation. The input is scaled channel-wise by the gate. State-dict keys are
    ``conv1.conv.*`` and ``conv2.conv.*``, as mmpretrain's and mmcv's SELayer.

    Args:
        channels (int): Input (and output) channels.
        squeeze_channels (int, optional): Width of the bottleneck. Default: None, meaning
            ``make_divisible(channels / ratio, divisor)``.
        ratio (float): Reduction ratio ``r``; used when ``squeeze_channels`` is None.
            Default: 16.
        divisor (int): The squeeze width is rounded to a multiple of it; used when
            ``squeeze_channels`` is None. Default: 8.
        bias (bool | str): Bias of the two convs; ``'auto'`` gives them a bias (no norm layer).
            Default: 'auto'.
        conv_cfg (dict, optional): Config of the conv layers. Default: None (``Conv2d``).
        act_cfg (dict | Sequence[dict]): Activations after the first and the second conv; one
            dict is used for both. Default: ``(dict(type='ReLU'), dict(type='Sigmoid'))``.
        squeeze (str): Global pooling, ``'avg'`` (the paper's), ``'max'`` or ``'avgmax'`` (their
            mean). Default: 'avg'.
        gate (str, optional): Shortcut for the second activation (the paper's excitation
            ablation): ``'sigmoid'``, ``'hsigmoid'``, ``'tanh'`` or ``'relu'``; it replaces
            ``act_cfg[1]``. Default: None.
        init_cfg (dict | list[dict], optional): Initialization config. Default: None.

    Example:
        >>> import torch
        >>> se = SELayer(64, ratio=16)
        >>> se.conv1.conv.out_channels, tuple(se(torch.rand(2, 64, 8, 8)).shape)
        (8, (2, 64, 8, 8))
    """

    takes_ratio = True

    def __init__(
        self,
        channels,
        squeeze_channels=None,
        ratio=16,
        divisor=8,
        bias='auto',
        conv_cfg=None,
        act_cfg=(dict(type='ReLU'), dict(type='Sigmoid')),
        squeeze='avg',
        gate=None,
        init_cfg=None,
    ):
        super().__init__(init_cfg)
        squeeze_channels, act_cfg = _checked(
            channels, squeeze_channels, ratio, divisor, bias, conv_cfg, act_cfg, squeeze, gate
        )
        self.squeeze = squeeze
        self.fusable = is_fusable(act_cfg[1])  # the block may fuse scale, add and ReLU
        self.channels = channels
        self.squeeze_channels = squeeze_channels
        self.global_avgpool = nn.AdaptiveAvgPool2d(1)
        self.conv1 = ConvModule(
            channels, squeeze_channels, 1, bias=bias, conv_cfg=conv_cfg, act_cfg=act_cfg[0]
        )
        self.conv2 = ConvModule(
            squeeze_channels, channels, 1, bias=bias, conv_cfg=conv_cfg, act_cfg=act_cfg[1]
        )

    @property
    def keeps_input(self):
        """Max pooling keeps its input for backward; the mean does not."""
        return self.squeeze != 'avg'

    def gate(self, x):
        """The excitation of ``x`` (N, C, H, W): one factor per channel, (N, C, 1, 1)."""
        if self.squeeze == 'avg' and not (
            records_grad(x) or is_compiling() or x.dtype in LOW_PRECISION
        ):
            pooled = self.global_avgpool(x)  # as timm's and mmpretrain's, to the bit
        else:  # a mean whose backward keeps nothing, summed in float32 for low precision
            pooled = squeeze(x, self.squeeze)
        return self.conv2(self.conv1(pooled))
