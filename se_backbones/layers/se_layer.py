import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule

from ..checks import check_layer_cfg, check_number, check_positive_int, fail
from ..registry import MODELS
from .make_divisible import make_divisible
from .squeeze_gate import (check_squeeze, gate_cfg, is_compiling, is_exporting, is_fusable,
                           records_grad, squeeze)


def _hooked(*modules):
    """Whether forward hooks (the modules' own or global ones) watch any of ``modules``."""
    from torch.nn.modules import module
    return bool(module._global_forward_hooks or module._global_forward_pre_hooks) or any(
        m._forward_hooks or m._forward_pre_hooks for m in modules)


def as_matrix_product(conv_module):
    """Whether ``conv_module`` on a (N, C, 1, 1) input is exactly ``F.linear`` with its weight:
    a plain 1x1 ``nn.Conv2d`` (no groups, no padding) followed by at most an activation, with no
    hooks to call."""
    conv = conv_module.conv
    return (type(conv) is nn.Conv2d and conv.kernel_size == (1, 1) and conv.groups == 1
            and conv.padding == (0, 0) and not conv_module.with_norm
            and not conv_module.with_explicit_padding
            and tuple(conv_module.order) == ('conv', 'norm', 'act')
            and not _hooked(conv_module, conv))


@MODELS.register_module()
class SELayer(BaseModule):
    """Squeeze-and-Excitation layer (Hu et al., `SENet <https://arxiv.org/abs/1709.01507>`_).

    Squeeze: global average pooling to one value per channel. Excitation: a 1x1 conv
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

    def __init__(self,
                 channels,
                 squeeze_channels=None,
                 ratio=16,
                 divisor=8,
                 bias='auto',
                 conv_cfg=None,
                 act_cfg=(dict(type='ReLU'), dict(type='Sigmoid')),
                 squeeze='avg',
                 gate=None,
                 init_cfg=None):
        super().__init__(init_cfg)
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
        self.squeeze = squeeze
        self.fusable = is_fusable(act_cfg[1])  # the block may fuse scale, add and ReLU
        self.channels = channels
        self.squeeze_channels = squeeze_channels
        self.global_avgpool = nn.AdaptiveAvgPool2d(1)
        self.conv1 = ConvModule(
            channels, squeeze_channels, 1, bias=bias, conv_cfg=conv_cfg, act_cfg=act_cfg[0])
        self.conv2 = ConvModule(
            squeeze_channels, channels, 1, bias=bias, conv_cfg=conv_cfg, act_cfg=act_cfg[1])

    def gate(self, x):
        """The excitation of ``x`` (N, C, H, W): one factor per channel, (N, C, 1, 1)."""
        if self.squeeze == 'avg' and not (records_grad(x) or is_compiling()):
            pooled = self.global_avgpool(x)  # as timm's and mmpretrain's, to the bit
        else:  # a mean whose backward keeps nothing (and is cheaper, in eager training)
            pooled = squeeze(x, self.squeeze)
        return self.excite(pooled)

    def excite(self, pooled):
        """conv1, act, conv2, gate act on the squeeze ``pooled`` (N, C, 1, 1).

        A 1x1 conv on a 1x1 map is a matrix product. Where autograd records it (a train step,
        eager or compiled), ``F.linear`` runs it 2.5-3x faster than the conv primitive, forward
        and backward (docs/benchmarks.md), in float32 rounding of its own. Everywhere else
        (inference, traces, exports, other conv types, hooks) the ConvModules run, so inference
        stays bit-equal to timm's and mmpretrain's convs.
        """
        recorded = torch.is_grad_enabled() and pooled.requires_grad and not is_exporting()
        if not (recorded and as_matrix_product(self.conv1) and as_matrix_product(self.conv2)):
            return self.conv2(self.conv1(pooled))
        for conv_module in (self.conv1, self.conv2):
            conv = conv_module.conv
            pooled = F.linear(pooled.flatten(1), conv.weight.flatten(1), conv.bias)[..., None, None]
            if conv_module.with_activation:
                pooled = conv_module.activate(pooled)
        return pooled

    def forward(self, x):
        """Scale ``x`` (N, C, H, W) channel-wise by its excitation."""
        return x * self.gate(x)
