import io

import pytest
import torch
from packaging.version import Version

from se_backbones import ECALayer, SELayer
from se_backbones.layers.squeeze_gate import records_grad, spatial_mean


def test_spatial_mean_in_training_keeps_nothing_and_has_mean_gradients():
    x = torch.randn(2, 3, 5, 4, dtype=torch.float64, requires_grad=True)
    kept = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: kept.append(t) or t, lambda t: t):
        y = spatial_mean(x)
    assert kept == []
    assert torch.allclose(y, x.mean((2, 3), keepdim=True))
    assert torch.autograd.gradcheck(spatial_mean, (x,))


def test_spatial_mean_gradient_is_a_broadcast_view():
    """No full-size tensor in backward: autograd adds the view into the branch's gradient."""
    x = torch.randn(2, 3, 5, 4, requires_grad=True)
    (grad,) = torch.autograd.grad(spatial_mean(x).sum(), x)
    assert grad.stride()[2:] == (0, 0) and torch.allclose(grad, torch.full_like(x, 1 / 20))


def test_records_grad_only_for_eager_autograd():
    x = torch.randn(1, 2, 3, 3, requires_grad=True)
    assert records_grad(x)
    assert not records_grad(x.detach())
    with torch.no_grad():
        assert not records_grad(x)


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
@pytest.mark.parametrize('grad', [True, False])
def test_the_squeeze_sums_low_precision_in_float32(dtype, grad):
    """A large low-precision activation map (49,152 everywhere, 64x64: a float16 sum overflows
    at 65,504, a bfloat16 one stops growing) squeezes to its mean, in train and inference,
    through SELayer's gate as well (where this torch has CPU float16 convs): the class of bug
    of mmdet PR #9670 (AMP NaN from fp16 pooling)."""
    x = torch.full((2, 8, 64, 64), 49152.0, dtype=dtype, requires_grad=grad)
    with torch.set_grad_enabled(grad):
        assert spatial_mean(x).float().unique().tolist() == [49152.0]
        if dtype == torch.float16 and Version(torch.__version__.split('+')[0]) < Version('2.2'):
            return  # torch 2.1: "slow_conv2d_cpu" not implemented for 'Half'
        se = SELayer(8, ratio=2).to(dtype)
        pooled = []
        se.conv1.register_forward_pre_hook(lambda module, args: pooled.append(args[0]))
        se.gate(x)
    assert pooled[0].dtype == dtype and pooled[0].float().unique().tolist() == [49152.0]


@pytest.mark.parametrize('layer', [SELayer, ECALayer])
@pytest.mark.parametrize('squeeze,kept', [('avg', False), ('max', True), ('avgmax', True)])
def test_only_max_pooling_keeps_the_input_for_backward(layer, squeeze, kept):
    """What ``keeps_input`` tells the block (whether it may overwrite the branch): the avg
    squeeze keeps no tensor of the input's size for backward, max pooling keeps one."""
    attention = layer(16, squeeze=squeeze)
    x = torch.randn(2, 16, 6, 6, requires_grad=True)
    shapes = []
    with torch.autograd.graph.saved_tensors_hooks(
        lambda t: shapes.append(tuple(t.shape)) or t, lambda t: t
    ):
        attention.gate(x)
    assert (tuple(x.shape) in shapes) == kept == attention.keeps_input


def test_a_trace_recording_autograd_saves_the_standard_mean():
    """Traced where autograd records the squeeze (mid-network in training: an input that needs
    grad), it records ``aten::mean``, which ``torch.jit.save`` writes, not our autograd
    Function (a Python op TorchScript cannot save)."""
    x = torch.randn(2, 3, 5, 4, requires_grad=True)
    traced = torch.jit.trace(spatial_mean, x)
    assert 'aten::mean' in str(traced.inlined_graph)
    torch.jit.save(traced, io.BytesIO())
    torch.testing.assert_close(traced(x), x.mean((2, 3), keepdim=True))
