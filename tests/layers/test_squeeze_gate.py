import torch

from se_backbones.layers.squeeze_gate import records_grad, spatial_mean


def test_spatial_mean_in_training_keeps_nothing_and_has_mean_gradients():
    x = torch.randn(2, 3, 5, 4, dtype=torch.float64, requires_grad=True)
    kept = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: kept.append(t) or t, lambda t: t):
        y = spatial_mean(x)
    assert kept == []
    assert torch.allclose(y, x.mean((2, 3), keepdim=True))
    assert torch.autograd.gradcheck(spatial_mean, (x, ))


def test_spatial_mean_gradient_is_a_broadcast_view():
    """No full-size tensor in backward: autograd adds the view into the branch's gradient."""
    x = torch.randn(2, 3, 5, 4, requires_grad=True)
    grad, = torch.autograd.grad(spatial_mean(x).sum(), x)
    assert grad.stride()[2:] == (0, 0) and torch.allclose(grad, torch.full_like(x, 1 / 20))


def test_records_grad_only_for_eager_autograd():
    x = torch.randn(1, 2, 3, 3, requires_grad=True)
    assert records_grad(x)
    assert not records_grad(x.detach())
    with torch.no_grad():
        assert not records_grad(x)
