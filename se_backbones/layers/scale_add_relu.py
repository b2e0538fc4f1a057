import torch
import torch.nn.functional as F

from . import fused_op
from .squeeze_gate import is_compiling, is_exporting

# The compiled one-pass kernels if built for this torch (python -m se_backbones.build_ops), else
# None: then the PyTorch formulas below run.
OP = fused_op.load()


def _op_fits(*tensors):
    """Whether the compiled op can take these tensors: plain CPU float tensors of one dtype, in
    the default (NCHW) layout, outside tracing, compiling and export (which see the formulas)."""
    x = tensors[0]
    return (OP is not None and x.device.type == 'cpu' and x.dim() == 4
            and x.dtype in (torch.float32, torch.float64)
            and all(type(t) is torch.Tensor and t.dtype == x.dtype and t.is_contiguous()
                    for t in tensors)
            and tensors[1].shape == (*x.shape[:2], 1, 1) and tensors[2].shape == x.shape
            and not (is_exporting() or is_compiling()))


def _forward(x, gate, identity, inplace=False):
    """relu(x * gate + identity), rounded as the plain formula, in one tensor: a new one for
    the product, or ``x`` itself if ``inplace`` (no allocation: 2x faster at stage 1 sizes).
    One pass with the compiled op, three to four with PyTorch's."""
    if _op_fits(x, gate, identity):
        return OP.forward(x, gate, identity, inplace)
    return (x.mul_(gate) if inplace else x * gate).add_(identity).relu_()


class _ScaleAddReLU(torch.autograd.Function):
    """relu(x * gate + identity) that keeps only its output, the gate and the identity (or, for
    a shortcut ending in BN, that BN's input, which the BN keeps anyway) for backward: the
    SE-scaled branch ``x`` is not stored. Where the output is positive,
    ``x * gate = output - identity``, which is all the gate's gradient needs."""

    @staticmethod
    def forward(ctx, x, gate, identity, bn_input, bn, inplace):
        out = _forward(x, gate, identity, inplace)
        if inplace:
            ctx.mark_dirty(x)
        ctx.bn = bn
        ctx.use_op = _op_fits(x, gate, identity)  # the backward follows the forward's choice
        ctx.save_for_backward(out, gate, identity if bn is None else bn_input)
        return out

    @staticmethod
    def backward(ctx, grad_out):
        out, gate, identity = ctx.saved_tensors
        if ctx.bn is not None:  # recompute the shortcut: the BN's normalisation of its input
            weight, bias, mean, var, batch_stats, eps = ctx.bn
            identity = F.batch_norm(identity, None if batch_stats else mean,
                                    None if batch_stats else var, weight, bias, batch_stats,
                                    0.0, eps)
        if ctx.use_op and _op_fits(out, gate, identity, grad_out):
            grad_x, grad_gate, grad_pre = OP.backward(grad_out, out, gate, identity)
            return grad_x, grad_gate, grad_pre, None, None, None
        grad_pre = torch.ops.aten.threshold_backward(grad_out, out, 0)  # ReLU's backward
        grad_x = grad_pre * gate
        # x * gate recovered as out - identity, in one new tensor (or in the recomputed one)
        scaled = identity.neg_().add_(out) if ctx.bn is not None else torch.sub(out, identity)
        # sum over H, W of grad * x (gate > 0: it is a sigmoid, or flat where it is 0; the
        # clamp only guards an underflow to exactly 0)
        grad_gate = scaled.mul_(grad_pre).sum((2, 3), keepdim=True)
        grad_gate = grad_gate / gate.clamp_min(torch.finfo(gate.dtype).tiny)
        return grad_x, grad_gate, grad_pre, None, None, None


def bn_args(bn):
    """What recomputing ``bn``'s output needs: weight, bias, running stats, whether it
    normalises with batch statistics, eps."""
    batch_stats = bn.training or bn.running_mean is None
    return bn.weight, bn.bias, bn.running_mean, bn.running_var, batch_stats, bn.eps


def scale_add_relu(x, gate, identity, inplace=False, shortcut_bn=None):
    """``relu(x * gate + identity)`` for an SE block's end: ``x`` (N, C, H, W) the residual
    branch, ``gate`` (N, C, 1, 1) its excitation, ``identity`` the shortcut.

    With autograd recording it runs a fused function that does not keep ``x`` for backward
    (one activation less per block); otherwise (inference, ONNX export) plain ops. ``inplace``
    writes the result into ``x``, a block's own temporary: no new tensor. In training the caller
    must know that nothing else keeps ``x`` for backward (autograd would raise if it did).
    ``shortcut_bn=(bn_input, bn)`` says ``identity`` is ``bn(bn_input)`` for an
    ``nn.BatchNorm2d``: then backward recomputes it from ``bn_input`` (which that BN keeps for
    its own backward) and the fused function keeps no copy of the shortcut either.

    Example:
        >>> import torch
        >>> x, identity = torch.randn(2, 4, 3, 3), torch.randn(2, 4, 3, 3)
        >>> gate = torch.rand(2, 4, 1, 1)
        >>> torch.equal(scale_add_relu(x, gate, identity), torch.relu(x * gate + identity))
        True
    """
    if torch.is_grad_enabled() and not torch.onnx.is_in_onnx_export() and (
            x.requires_grad or gate.requires_grad or identity.requires_grad):
        bn_input, bn = shortcut_bn if shortcut_bn is not None else (None, None)
        return _ScaleAddReLU.apply(x, gate, identity, bn_input, bn if bn is None else bn_args(bn),
                                   inplace and not (x.is_leaf and x.requires_grad)
                                   and not is_compiling())  # dynamo: no mark_dirty
    return _forward(x, gate, identity, inplace and not torch.onnx.is_in_onnx_export())
