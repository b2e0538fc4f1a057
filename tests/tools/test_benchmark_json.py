"""tools/benchmark.py --json: the rows it prints, as a JSON list, one object per model."""

import json
import math

from tools.benchmark import main

SE_PARAMS = 2_514_944 + 16_048  # SE-R50's SE layers (fc weights, biases) over ResNet-50


def test_json_holds_the_measured_rows(tmp_path, capsys):
    path = tmp_path / 'bench.json'
    rows = main(
        [
            '--rounds',
            '1',
            '--batch',
            '1',
            '--size',
            '64',
            '--models',
            'ours-se-r50',
            'mmdet-resnet50',
            '--json',
            str(path),
        ]
    )
    capsys.readouterr()
    saved = json.loads(path.read_text())
    assert [r['name'] for r in saved] == ['ours-se-r50', 'mmdet-resnet50']
    assert saved == [rows['ours-se-r50 eager'], rows['mmdet-resnet50 eager']]  # exact floats
    keys = {
        'name',
        'mode',
        'family',
        'forward',
        'train',
        'params',
        'flops',
        'memory_mib',
        'page_faults',
        'forward_median',
        'forward_spread',
        'train_median',
        'train_spread',
    }
    ours, plain = saved
    assert ours['ratios']['mmdet-resnet50']['memory'] == ours['memory_mib'] / plain['memory_mib']
    assert ours['ratios']['mmdet-resnet50']['forward']['median'] == (
        ours['forward'][0] / plain['forward'][0]
    )
    for row in saved:
        assert set(row) - {'ratios'} == keys and row['family'] == 'SE-R50'
        assert row['mode'] == 'eager'
        for key in ('forward', 'train'):  # one round: one time, its own median, no spread
            assert len(row[key]) == 1 and row[f'{key}_median'] == row[key][0]
            assert row[f'{key}_spread'] == 0 and 0 < row[key][0] < 60
        assert all(math.isfinite(row[k]) and row[k] > 0 for k in ('params', 'flops', 'memory_mib'))
        assert math.isfinite(row['page_faults']) and row['page_faults'] >= 0
    assert ours['params'] == plain['params'] + SE_PARAMS
    # ResNet-50's 4.1 GFLOPs (multiply-adds) at 224x224, scaled to 64x64
    assert 0.25e9 < plain['flops'] < 0.45e9
    # SE adds a little compute (global pools, the scale)
    assert plain['flops'] < ours['flops'] < 1.05 * plain['flops']
