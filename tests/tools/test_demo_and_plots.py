import os

from tests.configs.toy import toy_options
from tools import demo


def test_demo_trains_evaluates_and_draws(toy_root, tmp_path, capsys):
    work_dir = str(tmp_path / 'work')
    options = toy_options(toy_root, work_dir, max_iters=2, val_interval=1)
    options['model.test_cfg.rcnn.score_thr'] = 0.0  # an untrained model still gives boxes
    final = demo.main(['--work-dir', work_dir, '--data-root', toy_root, '--cfg-options',
                       *[f'{k}={v}' for k, v in options.items()]])
    out = capsys.readouterr().out
    assert final['step'] == 2 and 0 <= final['coco/bbox_mAP_50'] <= 1
    assert '| bbox_mAP | bbox_mAP_50 |' in out
    for name in ('curves.png', 'predictions.png'):
        path = os.path.join(work_dir, name)
        assert os.path.getsize(path) > 1000, name
