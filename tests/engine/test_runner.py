import os

from mmengine.runner import Runner

from se_backbones.engine.runner import own_visualizer
from tests.configs.toy import toy_config


def save_dir(runner):
    backend = runner.visualizer._vis_backends['LocalVisBackend']
    return os.path.realpath(backend._save_dir)


def test_two_runners_in_one_process_log_into_their_own_work_dirs(tmp_path):
    """mmdet's base names its visualizer: without own_visualizer the second Runner reuses the
    first one's visualizer, and logs into the first run's work dir."""
    dirs = []
    for index in range(2):
        work_dir = str(tmp_path / f'run{index}')
        runner = Runner.from_cfg(
            own_visualizer(
                toy_config('faster_rcnn_se_r50.py', str(tmp_path / 'data') + '/', work_dir)
            )
        )
        runner.visualizer.add_scalars({'x': 1.0})  # creates the backend's save dir
        dirs.append((os.path.realpath(work_dir), save_dir(runner)))
    for work_dir, vis_dir in dirs:
        assert vis_dir.startswith(work_dir + os.sep), (work_dir, vis_dir)
