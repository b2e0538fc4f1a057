"""Shared test helpers."""

import torch

from se_backbones.weights.equivalence import randomize_  # noqa: F401  (re-exported for the tests)

# the backbone settings of mmdet's detection bases (its _base_/models/*_r50_fpn.py): four
# outputs, stem and stage 1 frozen, BN statistics frozen (tests/configs checks them there)
MMDET_DETECTION_SETTINGS = dict(
    out_indices=(0, 1, 2, 3),
    frozen_stages=1,
    norm_cfg=dict(type='BN', requires_grad=True),
    norm_eval=True,
)


def outputs(model, x):
    """Eval-mode outputs of a backbone as a tuple of tensors."""
    model.eval()
    with torch.no_grad():
        return tuple(model(x))


def assert_same_outputs(a, b, x, atol=1e-6):
    """Both models give the same features for ``x``, in eval mode."""
    out_a, out_b = outputs(a, x), outputs(b, x)
    assert len(out_a) == len(out_b)
    for fa, fb in zip(out_a, out_b, strict=True):
        torch.testing.assert_close(fa, fb, rtol=0, atol=atol)


def num_params(model):
    return sum(p.numel() for p in model.parameters())


def saved_mib(model, x):
    """MiB that autograd keeps for the backward of ``model(x)`` in train mode: the distinct
    storages its saved-tensor hooks see, parameters left out."""
    weights = {p.untyped_storage().data_ptr() for p in model.parameters()}
    storages = {}

    def keep(t):
        s = t.untyped_storage()
        storages.setdefault(s.data_ptr(), s.nbytes())
        return t

    with torch.autograd.graph.saved_tensors_hooks(keep, lambda t: t):
        model.train()(x)
    return sum(n for ptr, n in storages.items() if ptr not in weights) / 2**20
