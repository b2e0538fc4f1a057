"""The SE block end, ``relu(x * gate + identity)``, in pure PyTorch.

- Eager training (autograd records it): :class:`_ScaleAddReLU`, which keeps neither the
  scaled branch nor (for a BN shortcut) the shortcut for backward: one activation less per
  block than the plain formula.
- Inference: the formula written into the branch's own tensor (no allocation).
- ``torch.compile``, TorchScript traces and ONNX exports: the plain formula, which inductor
  fuses into one pass (and whose backward it partitions itself), and which traces and exports
  as standard ops.
"""

import torch
import torch.nn.functional as F

from .squeeze_gate import LOW_PRECISION, is_compiling, is_exporting


def _forward(x, gate, identity, inplace=False):
    """relu(x * gate + identity) in one tensor: a new one, or ``x`` itself if ``inplace``."""
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
        ctx.save_for_backward(out, gate, identity if bn is None else bn_input)
        return out

    @staticmethod
    def backward(ctx, grad_out):
        out, gate, identity = ctx.saved_tensors
        if ctx.bn is not None:  # recompute the shortcut: the BN's normalisation of its input
            weight, bias, mean, var, batch_stats, eps = ctx.bn
            identity = F.batch_norm(
                identity,
                None if batch_stats else mean,
                None if batch_stats else var,
                weight,
                bias,
                batch_stats,
                0.0,
                eps,
            )
        grad_pre = torch.ops.aten.threshold_backward(grad_out, out, 0)  # ReLU's backward
        grad_x = grad_pre * gate
        # x * gate recovered as out - identity, in one new tensor (or in the recomputed one)
        scaled = identity.neg_().add_(out) if ctx.bn is not None else torch.sub(out, identity)
        # sum over H, W of grad * x (gate > 0: it is a sigmoid, or flat where it is 0; the
        # clamp only guards an underflow to exactly 0); float16/bfloat16 summed in float32
        acc = torch.float32 if gate.dtype in LOW_PRECISION else gate.dtype
        grad_gate = scaled.mul_(grad_pre).sum((2, 3), keepdim=True, dtype=acc)
        grad_gate = grad_gate / gate.to(acc).clamp_min(torch.finfo(gate.dtype).tiny)
        grad_gate = grad_gate.to(gate.dtype)
        return grad_x, grad_gate, grad_pre, None, None, None


def bn_args(bn):
    """What recomputing ``bn``'s output needs: weight, bias, running stats, whether it
    normalises with batch statistics, eps."""
    batch_stats = bn.training or bn.running_mean is None
    return bn.weight, bn.bias, bn.running_mean, bn.running_var, batch_stats, bn.eps


def _records(*tensors):
    return torch.is_grad_enabled() and any(t.requires_grad for t in tensors)


def scale_add_relu(x, gate, identity, inplace=False, shortcut_bn=None):
    """``relu(x * gate + identity)`` for an SE block's end: ``x`` (N, C, H, W) the residual
    branch, ``gate`` (N, C, 1, 1) its excitation, ``identity`` the shortcut.

    In eager mode with autograd recording it runs a fused function that does not keep ``x``
    for backward (one activation less per block). ``inplace`` writes the result into ``x``, a
    block's own temporary: no new tensor; in training the caller must know that nothing else
    keeps ``x`` for backward (autograd would raise if it did). ``shortcut_bn=(bn_input, bn)``
    says ``identity`` is ``bn(bn_input)`` for an ``nn.BatchNorm2d``: then backward recomputes
    it from ``bn_input`` (which that BN keeps for its own backward) and the fused function
    keeps no copy of the shortcut either. Under ``torch.compile``, traces and exports: the
    plain formula (inductor fuses it into one kernel).

    Example:
        >>> import torch
        >>> x, identity = torch.randn(2, 4, 3, 3), torch.randn(2, 4, 3, 3)
        >>> gate = torch.rand(2, 4, 1, 1)
        >>> torch.equal(scale_add_relu(x, gate, identity), torch.relu(x * gate + identity))
        True
    """
    if is_compiling() or is_exporting():
        return torch.relu(x * gate + identity)
    inplace = inplace and not (x.is_leaf and x.requires_grad)  # never a user's tensor
    if _records(x, gate, identity):
        bn_input, bn = shortcut_bn if shortcut_bn is not None else (None, None)
        return _ScaleAddReLU.apply(
            x, gate, identity, bn_input, bn if bn is None else bn_args(bn), inplace
        )
    return _forward(x, gate, identity, inplace)
