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
