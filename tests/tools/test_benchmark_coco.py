import json
import os
import sys
import types

import pytest
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


# --- fast: the measurement stood in (what the mutation runs use) ------------------------------

METRICS = 'bbox_mAP bbox_mAP_50 bbox_mAP_75 bbox_mAP_s bbox_mAP_m bbox_mAP_l segm_mAP'.split()
ROW = dict(config='a.py', backbone='SEResNet-50', images_per_s=1.875)
ROW.update(params=1_235_000, flops=1_235_000_000)  # 1.235 M and G: at the rounding
ROW.update(zip(METRICS, [0.5, 0.7125, 0.25, 0.0, 0.3, 0.6, None], strict=True))


@pytest.fixture
def inputs(tmp_path):
    paths = []
    for name in ('a.py', 'a.pth', 'b.py', 'b.pth'):
        (tmp_path / name).write_text('')
        paths.append(str(tmp_path / name))
    return paths


def test_the_table_and_json_of_the_rows_measured(inputs, tmp_path, monkeypatch, capsys):
    import tools.benchmark_coco as benchmark_coco

    calls = []
    monkeypatch.setattr(
        benchmark_coco, 'measure', lambda *args: calls.append(args) or dict(ROW, segm_mAP=0.25)
    )
    out = tmp_path / 'rows.json'
    a, a_ckpt, b, b_ckpt = inputs
    argv = [a, b, '--checkpoints', a_ckpt, b_ckpt, '--max-images', '4', '--json', str(out)]
    rows = main([*argv, '--cfg-options', 'x=1'])
    assert calls == [
        (a, a_ckpt, {'x': 1}, 4, 'work_dirs/benchmark_coco'),
        (b, b_ckpt, {'x': 1}, 4, 'work_dirs/benchmark_coco'),
    ]
    line = '| a.py | SEResNet-50 | 1.24 | 1.24 | 1.88 | 0.500 | 0.713 | 0.250 | 0.000 | 0.300 | '
    assert capsys.readouterr().out.splitlines() == [
        '| config | backbone | params (M) | GFLOPs | img/s | AP | AP50 | AP75 | APs | APm | APl '
        '| mask AP |',
        '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
        line + '0.600 | 0.250 |',
        line + '0.600 | 0.250 |',
    ]
    assert json.loads(out.read_text()) == rows == [dict(ROW, segm_mAP=0.25)] * 2
    monkeypatch.setattr(benchmark_coco, 'measure', lambda *args: calls.append(args) or ROW)
    main([a, '--checkpoints', a_ckpt, '--work-dir', 'w'])
    assert calls[-1] == (a, a_ckpt, {}, None, 'w')
    assert capsys.readouterr().out.splitlines()[-1] == line + '0.600 | - |'  # no mask AP


@pytest.mark.parametrize(
    'argv, message',
    [
        (lambda a, ak, b, bk: [a], 'the following arguments are required: --checkpoints'),
        (
            lambda a, ak, b, bk: [a, b, '--checkpoints', ak],
            '2 configs but 1 checkpoints: give one checkpoint per config',
        ),
        (lambda a, ak, b, bk: ['no.py', '--checkpoints', ak], "config file 'no.py' does not exist"),
        (lambda a, ak, b, bk: [a, '--checkpoints', 'no.pth'], "checkpoint 'no.pth' does not exist"),
    ],
)
def test_refusals_end_with_one_line(inputs, argv, message, monkeypatch, capsys):
    import tools.benchmark_coco as benchmark_coco

    monkeypatch.setattr(sys, 'argv', ['tools/benchmark_coco.py'])
    monkeypatch.setattr(benchmark_coco, 'measure', None)  # never reached
    with pytest.raises(SystemExit) as exit_:
        main(argv(*inputs))
    assert exit_.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == f'benchmark_coco.py: error: {message}'


class Model:
    """A detector stood in: what test_step and the preprocessor received."""

    class SEResNet:
        depth = 50

    def __init__(self):
        self.backbone, self.steps = self.SEResNet(), []
        self.weights = [torch.zeros(3, 4), torch.zeros(5)]

    def eval(self):
        return self

    def parameters(self):
        return iter(self.weights)

    def data_preprocessor(self, batch, training):
        return dict(batch, preprocessed=not training)

    def test_step(self, batch):
        self.steps.append(batch['id'])


def test_one_measurement(monkeypatch, tmp_path):
    """The checkpoint and the first N images through the config's test set, a work dir per
    config; FLOPs of the first batch, preprocessed; images per second of all batches but the
    first (the warm-up), and the COCO metrics the test loop returned."""
    import se_backbones.engine.runner as runner_module
    import tools.benchmark_coco as benchmark_coco

    model, built = Model(), []
    batches = [dict(id=i, inputs=[0] * (i + 1)) for i in range(3)]
    runner = types.SimpleNamespace(
        test=lambda: {'coco/bbox_mAP': 0.5, 'coco/bbox_mAP_50': 0.75, 'coco/other': 1.0},
        model=model,
        test_dataloader=batches,
    )
    monkeypatch.setattr(runner_module, 'build_runner', lambda args: built.append(args) or runner)
    monkeypatch.setattr(benchmark_coco, 'flops_of', lambda m, batch: (m, batch))
    clock = iter([10.0, 12.0])
    monkeypatch.setattr(benchmark_coco.time, 'perf_counter', lambda: next(clock))
    row = benchmark_coco.measure('cfgs/x_toy.py', 'x.pth', {'y': 2}, 3, str(tmp_path))
    assert vars(built[0]) == dict(
        config='cfgs/x_toy.py',
        launcher='none',
        cfg_options={'y': 2, 'load_from': 'x.pth', 'test_dataloader.dataset.indices': 3},
        work_dir=os.path.join(str(tmp_path), 'x_toy'),
    )
    assert model.steps == [0, 1, 2]  # the warm-up, then the timed ones
    assert row == dict(
        dict.fromkeys(METRICS),
        config='cfgs/x_toy.py',
        backbone='SEResNet-50',
        params=17,
        flops=(model, dict(batches[0], preprocessed=True)),
        images_per_s=(2 + 3) / 2.0,
        bbox_mAP=0.5,
        bbox_mAP_50=0.75,
    )
    clock = iter([0.0, 4.0])
    runner.test_dataloader = batches[2:]  # one batch: the warm-up batch is timed again
    model.steps = []
    row = benchmark_coco.measure('x.py', 'x.pth', {}, None, str(tmp_path))
    assert 'test_dataloader.dataset.indices' not in built[1].cfg_options
    assert model.steps == [2, 2] and row['images_per_s'] == 3 / 4.0
    clock = iter([0.0, 1.0])
    model.backbone = types.SimpleNamespace()  # no depth (a Swin, say)
    row = benchmark_coco.measure('x.py', 'x.pth', {}, None, str(tmp_path))
    assert row['backbone'] == 'SimpleNamespace-'


def test_flops_of_the_first_image_of_a_batch(mmlogs):
    """A 1x1 conv 3 -> 4 on a 5x5 image: 3 * 4 * 25 = 300 multiply-adds, for the first image
    and its data sample only; operators MMEngine does not count (a sigmoid) are not logged."""
    from tools.benchmark_coco import flops_of

    seen = []

    class Detector(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 4, 1)

        def _forward(self, inputs, data_samples):
            seen.append((inputs.shape[0], data_samples))
            return torch.sigmoid(self.conv(inputs))

    batch = dict(inputs=torch.zeros(2, 3, 5, 5), data_samples=['first', 'second'])
    assert flops_of(Detector(), batch) == 300
    assert seen and all(s == (1, ['first']) for s in seen)
    assert not any('nsupported' in message for _, message in mmlogs), mmlogs
