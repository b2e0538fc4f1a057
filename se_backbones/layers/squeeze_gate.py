"""The squeeze (global pooling) and gate (excitation activation) choices of the SENet paper's
ablations (Hu et al., Tables 11 and 12), shared by SELayer and ECALayer."""

import torch

from ..checks import check_choice

SQUEEZES = ('avg', 'max', 'avgmax')
# name -> activation config; all but tanh are >= 0 and flat where they are 0, which the fused
# SE block end (scale_add_relu) needs
GATES = {
    'sigmoid': dict(type='Sigmoid'),
    'hsigmoid': dict(type='HSigmoid'),
    'tanh': dict(type='Tanh'),
    'relu': dict(type='ReLU'),
}
FUSABLE_GATES = ('Sigmoid', 'HSigmoid', 'ReLU')


def check_squeeze(owner, squeeze):
    check_choice(owner, 'squeeze', squeeze, SQUEEZES)


def gate_cfg(owner, gate):
    """The activation config of a gate name."""
    check_choice(owner, 'gate', gate, tuple(GATES))
    return dict(GATES[gate])


# Whether dynamo is tracing: torch.compiler.is_compiling (torch >= 2.3), else torch._dynamo's
is_compiling = getattr(getattr(torch, 'compiler', None), 'is_compiling', None) or (
    lambda: torch._dynamo.is_compiling()
)


def is_exporting():
    """Whether a TorchScript trace or an ONNX export is recording the ops (they should see the
    standard modules and ops, as timm's and mmpretrain's models give them)."""
    return torch.jit.is_tracing() or torch.onnx.is_in_onnx_export()


def records_grad(x):
    """Whether autograd records ``x``'s ops in plain eager mode (not tracing, exporting or
    compiling, which should see only standard ops)."""
    if not (torch.is_grad_enabled() and x.requires_grad):
        return False
    return not (is_exporting() or is_compiling())


LOW_PRECISION = (torch.float16, torch.bfloat16)


def mean_hw(x):
    """The mean over H, W of ``x`` (N, C, H, W) -> (N, C, 1, 1), summed in float32 for float16
    and bfloat16 inputs (a float16 sum of a large map overflows; mmdet PR #9670's AMP NaN) and
    returned in ``x``'s dtype."""
    if x.dtype in LOW_PRECISION:
        return x.mean((2, 3), keepdim=True, dtype=torch.float32).to(x.dtype)
    return x.mean((2, 3), keepdim=True)


class _BroadcastGradMean(torch.autograd.Function):
    """The mean over H, W that keeps nothing for backward and whose gradient is a broadcast
    view of the (N, C, 1, 1) one: autograd adds it into the branch's gradient in place, where
    ``mean``'s own backward writes a full-size tensor first."""

    @staticmethod
    def forward(ctx, x):
        ctx.shape = x.shape
        return mean_hw(x)

    @staticmethod
    def backward(ctx, grad):
        return (grad / (ctx.shape[2] * ctx.shape[3])).expand(ctx.shape)


def spatial_mean(x):
    """The mean over H, W of ``x`` (N, C, H, W) -> (N, C, 1, 1) (:func:`mean_hw`), keeping
    nothing for backward where autograd records it in eager mode: the fused SE block end relies
    on the squeeze not keeping the branch (torch 2.1's own ``mean`` keeps its input). Traces,
    exports and ``torch.compile`` see the plain ``mean``.

    Example:
        >>> x = torch.full((1, 2, 64, 64), 60000.0, dtype=torch.float16)
        >>> spatial_mean(x).flatten().tolist()
        [60000.0, 60000.0]
    """
    if records_grad(x):
        return _BroadcastGradMean.apply(x)
    return mean_hw(x)


def squeeze(x, mode):
    """One value per channel of ``x`` (N, C, H, W) -> (N, C, 1, 1): the mean (the paper's
    choice), the max, or their average (timm's 'avgmax')."""
    if mode == 'avg':
        return spatial_mean(x)
    if mode == 'max':
        return x.amax((2, 3), keepdim=True)
    return 0.5 * (spatial_mean(x) + x.amax((2, 3), keepdim=True))


def is_fusable(act_cfg):
    """Whether a gate activation suits the fused scale-add-ReLU (see :data:`FUSABLE_GATES`)."""
    return act_cfg is not None and act_cfg.get('type') in FUSABLE_GATES
