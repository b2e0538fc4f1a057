"""Check that our backbones reproduce timm's SE-ResNets: random weights, converted, compared.

    python tools/check_timm.py [--size 75] [NAME ...]

Prints a Markdown table: timm name, our backbone config, and the largest relative difference
(max |ours - timm| / max |timm|) over the layer1..layer4 features, in eval mode, for a random
2x3xSIZExSIZE input.
"""
import argparse

import timm
import torch

from se_backbones import TIMM_ARCHS, backbone_cfg_from_timm, convert_timm_state_dict


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
    hooks = [getattr(model, f'layer{i}').register_forward_hook(
        lambda module, args, out: feats.append(out)) for i in range(1, 5)]
    with torch.no_grad():
        model.eval().forward_features(x)
    for hook in hooks:
        hook.remove()
    return feats


def max_rel_diff(ours, theirs):
    return max(float((a - b).abs().max() / b.abs().max()) for a, b in zip(ours, theirs))


def equivalence_error(name, size=75, build=None):
    """Max relative feature difference between timm's ``name`` and our backbone for it.

    ``build`` turns a backbone config into a module (default: our registry)."""
    if build is None:
        from se_backbones import MODELS
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('names', nargs='*', default=list(TIMM_ARCHS))
    parser.add_argument('--size', type=int, default=75)
    args = parser.parse_args(argv)
    print('| timm model | our backbone config | max rel. error |')
    print('|---|---|---:|')
    for name in args.names:
        cfg = backbone_cfg_from_timm(name)
        args_text = ', '.join(f'{k}={v!r}' for k, v in cfg.items() if k != 'type')
        print(f"| {name} | {cfg['type'].split('.')[1]}({args_text}) | "
              f'{equivalence_error(name, args.size):.1e} |', flush=True)


if __name__ == '__main__':
    main()
