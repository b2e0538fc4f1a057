import os

import torch
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.registry import DefaultScope

from tests.configs.toy import CONFIGS, toy_test_options
from tools.benchmark_coco import main


def test_se_and_plain_side_by_side(toy_root, tmp_path, capsys):
    configs = [os.path.join(CONFIGS, 'toy', f'faster_rcnn_{b}_toy.py') for b in ('se_r50', 'r50')]
    checkpoints = []
    for config in configs:  # untrained weights are enough to exercise the measurement
        with DefaultScope.overwrite_default_scope('mmdet'):
            model = MODELS.build(Config.fromfile(config).model)
        checkpoints.append(str(tmp_path / (os.path.basename(config) + '.pth')))
        torch.save({'state_dict': model.state_dict()}, checkpoints[-1])
    options = toy_test_options(toy_root, str(tmp_path))
    rows = main(
        [
            *configs,
            '--checkpoints',
            *checkpoints,
            '--max-images',
            '4',
            '--work-dir',
            str(tmp_path),
            '--cfg-options',
            *[f'{k}={v}' for k, v in options.items()],
        ]
    )
    out = capsys.readouterr().out
    assert [r['backbone'] for r in rows] == ['SEResNet-50', 'ResNet-50']
    assert rows[0]['params'] - rows[1]['params'] == 2_514_944 + 16_048
    assert rows[0]['flops'] > rows[1]['flops'] > 1e9 and all(r['images_per_s'] > 0 for r in rows)
    assert all(0 <= r['bbox_mAP'] <= 1 and r['segm_mAP'] is None for r in rows)
    assert out.count('| ') > 20 and 'faster_rcnn_se_r50_toy.py | SEResNet-50 |' in out
