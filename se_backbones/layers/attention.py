"""The contract between a channel attention and the SE blocks.

A block (``se_backbones.backbones.se_blocks``) asks its attention four things, and only
through this class:

- :meth:`ChannelAttention.gate`: one factor per channel, (N, C, 1, 1), for the input
  (N, C, H, W). ``forward(x)`` is ``x * gate(x)``.
- :attr:`ChannelAttention.fusable`: whether the gate is >= 0 and flat where it is 0, so the
  block may run scale, add and ReLU as one end that recovers ``x * gate`` from its output
  (:func:`se_backbones.layers.scale_add_relu`) instead of keeping ``x`` for backward.
- :attr:`ChannelAttention.keeps_input`: whether ``gate(x)`` keeps ``x`` for backward (a max
  pool does, and so does ``x.mean`` on torch 2.1; :func:`~se_backbones.layers.spatial_mean`
  never does); if it does, the block must not overwrite ``x`` in place.
- :attr:`ChannelAttention.takes_ratio`: whether the backbone passes its ``se_ratio`` (one per
  stage) to the constructor as ``ratio=``.

A new attention type subclasses :class:`ChannelAttention`, registers itself in
``se_backbones.MODELS`` and is then usable as ``se_cfg=dict(type='MyAttention', ...)``
(docs/extending.md).
"""

from mmengine.model import BaseModule


class ChannelAttention(BaseModule):
    """Base of the channel attentions an SE block can hold (SE, ECA, ...).

    Subclasses implement :meth:`gate` and set :attr:`fusable` and :attr:`keeps_input` (class
    or instance attributes); the defaults are the safe ones: no fused end, input kept.

    Attributes:
        takes_ratio (bool): The constructor takes ``ratio``, which the backbone fills from
            ``se_ratio``. Default: False.
        fusable (bool): The gate is >= 0 and flat where it is 0 (sigmoid, hard sigmoid,
            ReLU; not tanh). Default: False.
        keeps_input (bool): :meth:`gate` keeps its input for backward. Default: True.

    Example:
        >>> import torch
        >>> from se_backbones.layers import spatial_mean
        >>> class Mean(ChannelAttention):
        ...     fusable, keeps_input = True, False
        ...     def gate(self, x):
        ...         return torch.sigmoid(spatial_mean(x))
        >>> x = torch.ones(1, 2, 3, 3)
        >>> Mean()(x)[0, :, 0, 0]
        tensor([0.7311, 0.7311])
    """

    takes_ratio = False
    fusable = False
    keeps_input = True

    def gate(self, x):
        """The attention of ``x`` (N, C, H, W): one factor per channel, (N, C, 1, 1)."""
        raise NotImplementedError(f'{type(self).__name__} must implement gate(x)')

    def forward(self, x):
        """Scale ``x`` (N, C, H, W) channel-wise by its attention."""
        return x * self.gate(x)
