"""Shared test helpers."""
import torch

from se_backbones.weights.equivalence import randomize_  # noqa: F401  (re-exported for the tests)


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
