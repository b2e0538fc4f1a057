from mmcv.cnn import build_conv_layer

from ..checks import fail
from ..registry import MODELS
from .se_blocks import SENetBottleneck
from .seresnext import SEResNeXt


@MODELS.register_module()
class SENet154(SEResNeXt):
    """SENet-154 (Hu et al., the ILSVRC 2017 winner's backbone): 3-conv stem 64-64-128,
    ceil-mode stem pool, 64-group bottlenecks with a 2x-planes 1x1 conv, 3x3 downsample convs in
    stages 2-4, SE width ``C // 16``. Loads timm's ``legacy_senet154`` weights exactly.

    Args:
        depth (int): 154. Default: 154.
        groups (int): Groups of the 3x3 convs. Default: 64.
        **kwargs: Arguments of :class:`SEResNeXt` (SE and mmdet/mmseg ResNet ones); ``dcn`` and
            ``plugins`` are not supported.

    Example:
        >>> import torch
        >>> model = SENet154(out_indices=(3, )).eval()
        >>> [tuple(f.shape) for f in model(torch.rand(1, 3, 64, 64))]
        [(1, 2048, 2, 2)]
    """

    arch_settings = {154: (SENetBottleneck, (3, 8, 36, 3))}

    def __init__(self, depth=154, groups=64, **kwargs):
        for name in ('dcn', 'plugins'):
            if kwargs.get(name) is not None:
                fail('SENet154', name, kwargs[name], 'None (not supported by SENet-154 blocks)')
        defaults = dict(
            deep_stem=True,
            stem_channels=(64, 64, 128),
            se_cfg=dict(divisor=1),
            stem_pool_cfg=dict(kernel_size=3, stride=2, padding=0, ceil_mode=True),
        )
        super().__init__(depth, groups=groups, **dict(defaults, **kwargs))

    def make_res_layer(self, **kwargs):
        """A stage; from the second on, the downsample conv is 3x3 (padding 1)."""
        layer = super().make_res_layer(**kwargs)
        downsample = layer[0].downsample
        if len(self.res_layers) > 0 and downsample is not None:
            conv = downsample[-2]  # [AvgPool2d (avg_down),] conv, norm
            downsample[-2] = build_conv_layer(
                self.conv_cfg,
                conv.in_channels,
                conv.out_channels,
                3,
                stride=conv.stride,
                padding=1,
                bias=False,
            )
        return layer
