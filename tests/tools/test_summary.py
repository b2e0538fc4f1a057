import json

from tools.summary import main


def test_main_job_builds_through_mmdet_and_reports(capsys):
    rows = {r['name']: r for r in main(['--input-size', '64'])}
    out = capsys.readouterr().out
    assert rows['SE-ResNet-50']['type'] == 'se_backbones.backbones.seresnet.SEResNet'
    assert rows['SE-ResNeXt-50 32x4d']['type'] == 'se_backbones.backbones.seresnext.SEResNeXt'
    assert rows['ResNet-50']['type'] == 'mmdet.models.backbones.resnet.ResNet'
    assert rows['SE-ResNet-50']['stage_shapes'] == [
        (256, 16, 16),
        (512, 8, 8),
        (1024, 4, 4),
        (2048, 2, 2),
    ]
    # SE adds the paper's 2/r sum N C^2 weights + biases and a little compute
    assert rows['SE-ResNet-50']['params'] - rows['ResNet-50']['params'] == 2_514_944 + 16_048
    # fvcore's rules: the squeeze counts its inputs (C H W), each gate FC C * C/16
    se_flops = sum(
        blocks * (channels * size**2 + 2 * channels * channels // 16)
        for blocks, channels, size in ((3, 256, 16), (4, 512, 8), (6, 1024, 4), (3, 2048, 2))
    )
    assert rows['SE-ResNet-50']['flops'] - rows['ResNet-50']['flops'] == se_flops  # both stacks
    assert '| SE-ResNet-50 | se_backbones.backbones.seresnet.SEResNet | 26.039 |' in out


def test_variant_table(capsys):
    rows = {r['name']: r for r in main(['--input-size', '64', '--variants'])}
    out = capsys.readouterr().out
    base = rows['ResNet-50']['params']
    assert rows['SE standard (r=16)']['params'] - base == 2_530_992
    assert rows['mmdet ResNet + SEPlugin']['params'] == rows['SE standard (r=16)']['params']
    assert rows['ECA (adaptive k)']['params'] - base == 86
    assert rows['SE after 3x3 conv']['params'] - base == 162_744
    assert rows['SENet-154']['stage_shapes'][-1] == (2048, 2, 2)
    assert '| SE-PRE | 25.514 | +2,005,624 |' in out and '22.23 err' in out


# --- the tables of small backbones (fast: what the mutation runs use) --------------------------

SMALL = """
custom_imports = dict(imports=['se_backbones'], allow_failed_imports=False)
models = {
    'ResNet-18/16': dict(type='ResNet', depth=18, base_channels=16),
    'SE-ResNet-18/16': dict(type='se_backbones.SEResNet', depth=18, base_channels=16),
}
"""
SHAPES = [(16, 8, 8), (32, 4, 4), (64, 2, 2), (128, 1, 1)]  # a 32x32 input, strides 4 to 32


def mmdet_resnet18_16():
    """mmdet's ResNet-18 of base width 16: the reference for parameters and FLOPs."""
    from mmdet.models.backbones import ResNet

    model = ResNet(depth=18, base_channels=16)
    params = sum(p.numel() for p in model.parameters())
    # by hand (fvcore's rules: a conv's multiply-adds, an eval-mode BN 2 per element, ReLU
    # nothing): the 7x7 stem at 16x16 and its BN, then per stage 2 blocks of two 3x3 convs with
    # BNs, and from stage 2 a 1x1 downsample with its BN
    flops = 3 * 16 * 49 * 16 * 16 + 2 * 16 * 16 * 16
    for stage, (channels, size, _) in enumerate(SHAPES):
        inputs = channels // 2 if stage else channels
        flops += (inputs + 3 * channels) * channels * 9 * size * size
        flops += 2 * 4 * channels * size * size
        if stage:
            flops += inputs * channels * size * size + 2 * channels * size * size
    return params, flops


def se_extra():
    """What SE (r=16) adds to ResNet-18/16: per block two 1x1 convs C -> S -> C with biases,
    S = C/16 rounded up to a multiple of 8 (8 for all these widths); the squeeze's C H W
    additions and the two convs' 2 C S multiply-adds."""
    params = sum(2 * (2 * c * 8 + 8 + c) for c, _, _ in SHAPES)
    flops = sum(2 * (c * h * w + 2 * c * 8) for c, h, w in SHAPES)
    return params, flops


def test_the_table_of_small_backbones(tmp_path, capsys, monkeypatch):
    import tools.summary as summary

    monkeypatch.setattr(summary, 'CONFIG', SMALL)
    out = str(tmp_path / 'rows.json')
    rows = main(['--input-size', '32', '--json', out])
    params, flops = mmdet_resnet18_16()
    extra_params, extra_flops = se_extra()
    expected = [
        dict(
            name='ResNet-18/16',
            type='mmdet.models.backbones.resnet.ResNet',
            params=params,
            flops=flops,
            stage_shapes=SHAPES,
        ),
        dict(
            name='SE-ResNet-18/16',
            type='se_backbones.backbones.seresnet.SEResNet',
            params=params + extra_params,
            flops=flops + extra_flops,
            stage_shapes=SHAPES,
        ),
    ]
    assert rows == expected
    with open(out) as f:
        assert json.load(f) == [dict(r, stage_shapes=[list(s) for s in SHAPES]) for r in expected]
    assert capsys.readouterr().out.splitlines() == [
        '| model | built class | params (M) | FLOPs @32x32 (G) | stage outputs (C, H, W) |',
        '|---|---|---:|---:|---|',
        *(
            f'| {r["name"]} | {r["type"]} | {r["params"] / 1e6:.3f} | {r["flops"] / 1e9:.3f} | '
            '16x8x8 32x4x4 64x2x2 128x1x1 |'
            for r in expected
        ),
        f'SE-ResNet-18/16 vs ResNet-18/16: +{extra_params / 1e6:.3f}M params '
        f'(+{extra_params / params:.1%}), +{extra_flops / 1e6:.1f}M FLOPs '
        f'(+{extra_flops / flops:.2%})',
    ]


def test_the_variant_table_of_small_backbones(capsys, monkeypatch):
    import tools.summary as summary

    monkeypatch.setattr(summary, 'CONFIG', SMALL)
    monkeypatch.setattr(
        summary,
        'VARIANTS',
        {
            'plain': (dict(type='ResNet', depth=18, base_channels=16), 'paper A'),
            'SE': (dict(type='se_backbones.SEResNet', depth=18, base_channels=16), 'paper B'),
        },
    )
    rows = main(['--input-size', '32', '--variants'])
    params, flops = mmdet_resnet18_16()
    extra_params, extra_flops = se_extra()
    assert [(r['name'], r.get('paper'), r['params'], r['flops']) for r in rows[2:]] == [
        ('plain', 'paper A', params, flops),
        ('SE', 'paper B', params + extra_params, flops + extra_flops),
    ]
    assert capsys.readouterr().out.split('\n\n')[1].splitlines() == [
        '| variant | params (M) | extra params | FLOPs @32x32 (G) | paper |',
        '|---|---:|---:|---:|---|',
        f'| plain | {params / 1e6:.3f} | +0 | {flops / 1e9:.3f} | paper A |',
        f'| SE | {(params + extra_params) / 1e6:.3f} | +{extra_params:,} | '
        f'{(flops + extra_flops) / 1e9:.3f} | paper B |',
    ]


def test_the_variant_table_rounds_the_gflops_as_counted(capsys, monkeypatch):
    """A 5x5 conv 3 -> 8 at 50x50 is 3 * 8 * 25 * 2500 = 1,500,000 FLOPs: 0.0015 G, printed
    0.002 (Python's rounding of the float 0.0015), and 608 parameters, 0.001 M."""
    import torch
    from mmdet.registry import MODELS

    import tools.summary as summary

    class Conv(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 8, 5, padding=2)

        def forward(self, x):
            return [self.conv(x)]

    MODELS.register_module(name='SummaryTestConv', module=Conv)
    try:
        monkeypatch.setattr(summary, 'CONFIG', SMALL)
        monkeypatch.setattr(summary, 'VARIANTS', {'conv': (dict(type='SummaryTestConv'), '-')})
        rows = main(['--input-size', '50', '--variants'])
    finally:
        MODELS._module_dict.pop('SummaryTestConv')
    assert (rows[-1]['params'], rows[-1]['flops']) == (608, 1_500_000)
    assert capsys.readouterr().out.splitlines()[-1] == '| conv | 0.001 | +0 | 0.002 | - |'


def test_the_comparison_lines_of_small_backbones_pair_them_and_round_as_counted(
    capsys, monkeypatch
):
    """Four models of 1x1/5x5 convs (no bias) on a 50x50 input, and spare parameters, chosen at
    the roundings: 'a' has 1,500 parameters (0.0015 M, printed 0.002) and 1,500,000 FLOPs
    (0.002 G); 'a+' adds a 1x1 conv 3 -> 60 (180 parameters, 3 * 60 * 2500 = 450,000 FLOPs,
    printed 0.5 M) and 1,320 spare parameters: 1,500 more in all (0.002 M). Each plain model is
    compared with the one after it."""
    import torch
    from mmdet.registry import MODELS

    import tools.summary as summary

    class Net(torch.nn.Module):
        def __init__(self, branches, spare):
            super().__init__()
            self.convs = torch.nn.ModuleList(
                torch.nn.Conv2d(3, c, k, padding=k // 2, bias=False) for c, k in branches
            )
            self.spare = torch.nn.Parameter(torch.zeros(spare))

        def forward(self, x):
            return [conv(x) for conv in self.convs]

    MODELS.register_module(name='SummaryTestNet', module=Net)
    try:
        monkeypatch.setattr(
            summary,
            'CONFIG',
            "models = {'a': dict(type='SummaryTestNet', branches=[(8, 5)], spare=900),"
            " 'a+': dict(type='SummaryTestNet', branches=[(8, 5), (60, 1)], spare=2220),"
            " 'b': dict(type='SummaryTestNet', branches=[(4, 1)], spare=0),"
            " 'b+': dict(type='SummaryTestNet', branches=[(4, 1), (4, 1)], spare=4)}",
        )
        main(['--input-size', '50'])
    finally:
        MODELS._module_dict.pop('SummaryTestNet')
    assert capsys.readouterr().out.splitlines()[2:] == [
        '| a | tests.tools.test_summary.Net | 0.002 | 0.002 | 8x50x50 |',
        '| a+ | tests.tools.test_summary.Net | 0.003 | 0.002 | 8x50x50 60x50x50 |',
        '| b | tests.tools.test_summary.Net | 0.000 | 0.000 | 4x50x50 |',
        '| b+ | tests.tools.test_summary.Net | 0.000 | 0.000 | 4x50x50 4x50x50 |',
        'a+ vs a: +0.002M params (+100.0%), +0.5M FLOPs (+30.00%)',
        'b+ vs b: +0.000M params (+133.3%), +0.0M FLOPs (+100.00%)',
    ]
