import math

import torch.nn as nn
from mmcv.cnn import build_activation_layer

from ..checks import check_number, check_positive_int, fail, is_int
from ..registry import MODELS
from .attention import ChannelAttention
from .squeeze_gate import check_squeeze, gate_cfg, is_fusable, squeeze


def eca_kernel_size(channels, gamma=2, b=1):
    """ECA-Net's adaptive kernel size: ``|(log2(C) + b) / gamma|`` made odd (one more if even),
    at least 3, as the authors' code and timm compute it.

    Example:
        >>> [eca_kernel_size(c) for c in (64, 256, 512, 1024, 2048)]
        [3, 5, 5, 5, 7]
    """
    t = int(abs(math.log(channels, 2) + b) / gamma)
    return max(t if t % 2 else t + 1, 3)


@MODELS.register_module()
class ECALayer(ChannelAttention):
    """Efficient Channel Attention (Wang et al., `ECA-Net <https://arxiv.org/abs/1910.03151>`_).

    A :class:`~se_backbones.layers.attention.ChannelAttention` without a reduction ratio.

    Squeeze by global pooling, then a 1-D convolution of kernel ``k`` across the channels (local
    cross-channel interaction, no dimensionality reduction, ``k`` weights in all) and a gate.
    State-dict key ``conv.weight`` (1, 1, k), as timm's ``EcaModule``.

    Args:
        channels (int): Input (and output) channels.
        kernel_size (int, optional): Odd kernel size ``k``. Default: None, meaning adaptive:
            :func:`eca_kernel_size` of ``channels``, ``gamma`` and ``b``.
        gamma (float): Of the adaptive kernel size. Default: 2.
        b (float): Of the adaptive kernel size. Default: 1.
        squeeze (str): ``'avg'``, ``'max'`` or ``'avgmax'``. Default: 'avg'.
        gate (str): ``'sigmoid'``, ``'hsigmoid'``, ``'tanh'`` or ``'relu'``. Default: 'sigmoid'.
        init_cfg (dict | list[dict], optional): Initialization config. Default: None.

    Example:
        >>> import torch
        >>> eca = ECALayer(256)
        >>> eca.kernel_size, tuple(eca(torch.rand(2, 256, 8, 8)).shape)
        (5, (2, 256, 8, 8))
    """

    def __init__(
        self, channels, kernel_size=None, gamma=2, b=1, squeeze='avg', gate='sigmoid', init_cfg=None
    ):
        super().__init__(init_cfg)
        check_positive_int('ECALayer', 'channels', channels)
        check_number('ECALayer', 'gamma', gamma)
        check_number('ECALayer', 'b', b, positive=False)
        if kernel_size is None:
            kernel_size = eca_kernel_size(channels, gamma, b)
        elif not is_int(kernel_size) or kernel_size <= 0 or kernel_size % 2 == 0:
            fail('ECALayer', 'kernel_size', kernel_size, 'None (adaptive) or a positive odd int')
        check_squeeze('ECALayer', squeeze)
        act_cfg = gate_cfg('ECALayer', gate)
        self.channels, self.kernel_size, self.squeeze = channels, kernel_size, squeeze
        self.fusable = is_fusable(act_cfg)
        self.conv = nn.Conv1d(1, 1, kernel_size, padding=(kernel_size - 1) // 2, bias=False)
        self.activate = build_activation_layer(act_cfg)

    @property
    def keeps_input(self):
        """Max pooling keeps its input for backward; the mean does not."""
        return self.squeeze != 'avg'

    def gate(self, x):
        """The attention of ``x`` (N, C, H, W): one factor per channel, (N, C, 1, 1)."""
        n, c = x.shape[:2]
        y = self.conv(squeeze(x, self.squeeze).view(n, 1, c))
        return self.activate(y).view(n, c, 1, 1)
