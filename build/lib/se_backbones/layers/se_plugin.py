from ..registry import MODELS
from .se_layer import SELayer


@MODELS.register_module()
class SEPlugin(SELayer):
    """:class:`SELayer` as a plugin of mmdet's ``ResNet``/``ResNeXt`` bottleneck.

    mmdet builds plugins with ``in_channels``; at ``position='after_conv3'`` the block scales
    its residual branch before the add, which is SE-ResNet's block (same parameters; the keys
    are ``layerX.Y.se_plugin.conv{1,2}.conv.*`` instead of ``se_layer``).

    Args:
        in_channels (int): Channels at the plugin's position (given by mmdet).
        ratio (float): Reduction ratio. Default: 16.
        **kwargs: Other :class:`SELayer` arguments.

    Example:
        >>> import torch
        >>> from mmdet.models.backbones import ResNet
        >>> model = ResNet(50, plugins=[dict(cfg=dict(type='se_backbones.SEPlugin', ratio=16),
        ...                                  position='after_conv3')])
        >>> model.layer1[0].se_plugin.conv1.conv.weight.shape
        torch.Size([16, 256, 1, 1])
    """

    _abbr_ = 'se_plugin'

    def __init__(self, in_channels, ratio=16, **kwargs):
        super().__init__(in_channels, ratio=ratio, **kwargs)
