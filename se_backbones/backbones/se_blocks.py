"""The SE blocks: mmdet's ``BasicBlock`` and ``Bottleneck`` with an attention layer (SE, ECA, ...)
at one of the SENet paper's positions, ending in the fused scale-add-ReLU."""

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmcv.cnn import build_conv_layer, build_norm_layer
from mmdet.models.backbones.resnet import BasicBlock, Bottleneck
from mmdet.models.backbones.resnext import Bottleneck as ResNeXtBottleneck

from ..checks import error_class
from ..layers import scale_add_relu
from ..registry import MODELS

SE_POSITIONS = ('standard', 'pre', 'post', 'identity', 'after_conv2')


def attention_class(name):
    """The class of an attention layer type, looked up in our registry first (mmdet has an
    ``SELayer`` of its own), or None."""
    return name if isinstance(name, type) else MODELS.get(name)


class SEBlockMixin:
    """Puts an optional attention layer (``se_layer``: :class:`SELayer`, :class:`ECALayer`, ...)
    into a ResNet block, by default on the residual branch before the add. The block asks the
    layer only what :class:`~se_backbones.layers.ChannelAttention` promises: ``gate``,
    ``fusable`` and ``keeps_input``.

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

    def __init__(
        self, inplanes, planes, se_cfg=None, se_position='standard', act_before_se=False, **kwargs
    ):
        super().__init__(inplanes, planes, **kwargs)
        self.se_position = se_position
        self.act_before_se = act_before_se
        self.se_layer = None
        if se_cfg is not None:
            channels = {'pre': inplanes, 'after_conv2': self.mid_channels(planes)}.get(
                se_position, planes * self.expansion
            )
            cfg = dict(se_cfg)
            self.se_layer = attention_class(cfg.pop('type', 'SELayer'))(channels, **cfg)

    def shortcut(self, x):
        """The shortcut's output, and ``(its BN's input, that BN)`` when the downsample ends in
        an ``nn.BatchNorm2d``: the fused block end then recomputes the shortcut in backward
        instead of keeping it (the BN keeps its input anyway)."""
        if self.downsample is None:
            return x, None
        if not isinstance(self.downsample, nn.Sequential) or (
            type(self.downsample[-1]) is not nn.BatchNorm2d
        ):
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
            if se.fusable:
                return scale_add_relu(
                    out,
                    se.gate(out),
                    identity,
                    shortcut_bn=shortcut_bn,
                    inplace=not torch.is_grad_enabled() or self.branch_is_own(se),
                )
            return self.relu(se(out) + identity)

        if self.with_cp and x.requires_grad:
            return cp.checkpoint(_inner_forward, x, use_reentrant=False)
        return _inner_forward(x)

    def branch_is_own(self, se):
        """Whether nothing keeps the residual branch's output for backward, so that the fused
        end may write into it in training too: the branch ends in its norm (which keeps its
        input, not its output; no ``act_before_se`` ReLU, no after_conv3 plugin) and the
        attention's gate does not keep its input (``keeps_input``: max pooling does)."""
        return (
            not self.act_before_se
            and not getattr(self, 'after_conv3_plugin_names', None)
            and not se.keeps_input
        )

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
    """A plugin config did not build in a block; the backbone reports it as ``plugins``. The
    error raised is also of the type mmdet raised (``AssertionError`` for a duplicate name,
    ``KeyError`` for an unknown type, ...), so code that catches mmdet's still catches ours."""


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
            raise error_class(PluginBuildError, type(error))(
                f'{type(error).__name__} at in_channels={in_channels}: {reason}'
            ) from error

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


class SEResNeXtBottleneck(SEBottleneck, ResNeXtBottleneck):
    """mmdet's ResNeXt ``Bottleneck`` (grouped 3x3 conv) with SE before the add."""


class SENetBottleneck(SEResNeXtBottleneck):
    """SENet-154's bottleneck: 1x1 conv to ``2 * planes``, grouped 3x3 conv to ``4 * planes``
    (stride here), 1x1 conv to ``4 * planes``, SE before the add (Hu et al., Table 1)."""

    def __init__(self, inplanes, planes, groups=64, **kwargs):
        super().__init__(inplanes, planes, groups=groups, **kwargs)
        mid, wide = planes * 2, planes * 4
        self.conv1 = build_conv_layer(
            self.conv_cfg, inplanes, mid, 1, stride=self.conv1_stride, bias=False
        )
        self.add_module(self.norm1_name, build_norm_layer(self.norm_cfg, mid)[1])
        self.conv2 = build_conv_layer(
            self.conv_cfg,
            mid,
            wide,
            3,
            stride=self.conv2_stride,
            padding=self.dilation,
            dilation=self.dilation,
            groups=groups,
            bias=False,
        )
        self.add_module(self.norm2_name, build_norm_layer(self.norm_cfg, wide)[1])
        self.conv3 = build_conv_layer(self.conv_cfg, wide, planes * self.expansion, 1, bias=False)
        self.add_module(self.norm3_name, build_norm_layer(self.norm_cfg, planes * 4)[1])

    def mid_channels(self, planes):
        return planes * 4
