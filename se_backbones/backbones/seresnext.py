from ..checks import check_positive_int
from ..registry import MODELS
from .se_blocks import SEResNeXtBottleneck
from .seresnet import SEResNet


@MODELS.register_module()
class SEResNeXt(SEResNet):
    """SE-ResNeXt backbone: :class:`SEResNet` with grouped-conv bottlenecks.

    The grouped conv of stage ``i`` is ``floor(planes * base_width / base_channels) * groups``
    wide, as in mmdet's ``ResNeXt`` (32x4d: 128, 256, 512, 1024).

    Args:
        depth (int): 26, 50, 101 or 152.
        groups (int): Groups of the 3x3 conv. Default: 32.
        base_width (int): Width per group in the first stage. Default: 4.
        **kwargs: Arguments of :class:`SEResNet` (SE and mmdet/mmseg ResNet ones).

    Example:
        >>> import torch
        >>> from se_backbones import SEResNeXt
        >>> model = SEResNeXt(depth=50, groups=32, base_width=4, out_indices=(3, )).eval()
        >>> [tuple(f.shape) for f in model(torch.rand(1, 3, 64, 64))]
        [(1, 2048, 2, 2)]
    """

    arch_settings = {
        26: (SEResNeXtBottleneck, (2, 2, 2, 2)),
        50: (SEResNeXtBottleneck, (3, 4, 6, 3)),
        101: (SEResNeXtBottleneck, (3, 4, 23, 3)),
        152: (SEResNeXtBottleneck, (3, 8, 36, 3)),
    }

    def __init__(self, depth, groups=32, base_width=4, **kwargs):
        check_positive_int('SEResNeXt', 'groups', groups)
        check_positive_int('SEResNeXt', 'base_width', base_width)
        self.groups = groups
        self.base_width = base_width
        super().__init__(depth, **kwargs)

    def make_res_layer(self, **kwargs):
        """Build one stage of grouped-conv SE bottlenecks."""
        return super().make_res_layer(
            groups=self.groups,
            base_width=self.base_width,
            base_channels=self.base_channels,
            **kwargs,
        )
