"""Numerical equivalence with timm: random weights in both models, ours loaded through the
key converter, stage features compared. Used by the tests and ``dev/check_timm.py``."""

import torch

from .convert import convert_timm_state_dict
from .timm_archs import backbone_cfg_from_timm


def randomize_(model, seed=0):
    """Fill every float parameter and buffer with random values (BN variances in [0.5, 1.5]), in
    place, so no layer is an identity (default inits zero the last BN of each block)."""
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


def timm_stage_features(model, x):
    """layer1..layer4 outputs of a timm ResNet or legacy SENet, in eval mode."""
    feats = []
    hooks = [
        getattr(model, f'layer{i}').register_forward_hook(
            lambda module, args, out: feats.append(out)
        )
        for i in range(1, 5)
    ]
    with torch.no_grad():
        model.eval().forward_features(x)
    for hook in hooks:
        hook.remove()
    return feats


def max_rel_diff(ours, theirs):
    """max |ours - theirs| / max |theirs|, the largest over pairs of tensors."""
    pairs = zip(ours, theirs, strict=True)
    return max(float((a - b).abs().max() / b.abs().max()) for a, b in pairs)


def equivalence_error(name, size=75, build=None):
    """Max relative feature difference between timm's ``name`` and our backbone for it.

    ``build`` turns a backbone config into a module (default: our registry)."""
    import timm

    if build is None:
        from ..registry import MODELS

        build = MODELS.build
    theirs = randomize_(timm.create_model(name, pretrained=False))
    ours = build(dict(backbone_cfg_from_timm(name), out_indices=(0, 1, 2, 3)))
    ours.load_state_dict(convert_timm_state_dict(name, theirs.state_dict()), strict=True)
    x = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        feats = ours.eval()(x)
    expected = timm_stage_features(theirs, x)
    assert [f.shape for f in feats] == [f.shape for f in expected]
    return max_rel_diff(feats, expected)
