"""Shared test helpers."""
import torch


def randomize_(model, seed=0):
    """Fill every parameter and BN buffer with random values, in place.

    Default inits (zero-init residual norms, unit BN stats) would make many equivalence checks
    pass trivially; random weights and running statistics make every layer count.
    """
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in list(model.named_parameters()) + list(model.named_buffers()):
            if not tensor.is_floating_point():
                continue
            if name.endswith('running_var'):
                tensor.copy_(torch.rand(tensor.shape, generator=gen) + 0.5)
            else:
                tensor.copy_(torch.randn(tensor.shape, generator=gen) * 0.2)
    return model


def outputs(model, x):
    """Eval-mode outputs of a backbone as a tuple of tensors."""
    model.eval()
    with torch.no_grad():
        return tuple(model(x))


def assert_same_outputs(a, b, x, atol=1e-6):
    """Both models give the same features for ``x``, in eval mode."""
    out_a, out_b = outputs(a, x), outputs(b, x)
    assert len(out_a) == len(out_b)
    for fa, fb in zip(out_a, out_b):
        torch.testing.assert_close(fa, fb, rtol=0, atol=atol)


def num_params(model):
    return sum(p.numel() for p in model.parameters())
