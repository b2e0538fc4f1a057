import os

from tests.configs.toy import toy_options
from tools import demo


def test_demo_trains_evaluates_and_draws(tmp_path, capsys):
    # its own data root: the demo writes its default-size set there (the session's shared
    # toy_root would be rewritten under the tests that use it later)
    data_root, work_dir = str(tmp_path / 'toy_shapes') + '/', str(tmp_path / 'work')
    options = toy_options(data_root, work_dir, max_iters=2, val_interval=1)
    options['model.test_cfg.rcnn.score_thr'] = 0.0  # an untrained model still gives boxes
    final = demo.main(
        [
            '--work-dir',
            work_dir,
            '--data-root',
            data_root,
            '--cfg-options',
            *[f'{k}={v}' for k, v in options.items()],
        ]
    )
    out = capsys.readouterr().out
    assert f'toy shapes set written to {data_root}' in out
    assert final['step'] == 2 and 0 <= final['coco/bbox_mAP_50'] <= 1
    assert '| bbox_mAP | bbox_mAP_50 |' in out
    for name in ('curves.png', 'predictions.png'):
        path = os.path.join(work_dir, name)
        assert os.path.getsize(path) > 1000, name
