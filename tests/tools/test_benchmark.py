from tools.benchmark import MODEL_NAMES, main
from tools.measure import MODELS


def test_the_cli_lists_the_measured_models():
    assert MODEL_NAMES == list(MODELS)


def test_side_by_side_table(capsys):
    rows = main(['--batch', '1', '--size', '64', '--rounds', '2', '--models', 'ours-se-r50',
                 'timm-seresnet50', 'mmdet-resnet50', '--detector-size', '128',
                 '--profile'])
    out = capsys.readouterr().out
    ours, timm, plain = (rows[n] for n in ('ours-se-r50', 'timm-seresnet50',
                                            'mmdet-resnet50'))
    assert ours['params'] == timm['params'] == plain['params'] + 2_514_944 + 16_048
    backbones = [ours, timm, plain]
    assert all(len(r['forward']) == len(r['train']) == 2 for r in backbones)
    assert all(r['forward_median'] > 0 and r['train_median'] > 0 for r in backbones)
    # SE keeps extra activations for backward (the pooled input and the scale's operands)
    assert ours['memory_mib'] > plain['memory_mib'] > 0
    assert '| ours-se-r50 / mmdet-resnet50 |' in out
    assert '| ours-se-r50 / timm-seresnet50 |' in out
    assert 'Faster R-CNN FPN inference, one 128x128 image: SE-R50 ' in out
    assert all(median > 0 for median, _ in rows['detectors'].values())
    # the profile lists operators by ours' extra time: the SE block's own ones (which plain
    # ResNet never runs: 0.00 ms there) are among them
    assert 'forward profile, ours-se-r50 vs mmdet-resnet50 (medians of 5)' in out
    assert 'train step profile, ours-se-r50 vs mmdet-resnet50 (medians' in out
    profile = out.split('forward profile')[1]
    assert '| operator | ours ms | plain ms | extra ms |' in profile
    assert ' | 0.00 | +' in profile
