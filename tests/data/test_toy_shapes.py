"""The toy shapes generator rewrites a root completely: no stale file of an earlier size or task
stays beside the new set."""
import json
import os

import pytest

from se_backbones.data import make_toy_shapes


def pngs(folder):
    return sorted(f for f in os.listdir(folder) if f.endswith('.png')) if os.path.isdir(
        folder) else []


def listing(root, task, split):
    """The image files of one split, as the toolkits' datasets would find them."""
    if task == 'det':
        return pngs(os.path.join(root, split))
    if task == 'seg':
        return pngs(os.path.join(root, 'img_dir', split))
    return sorted(f'{name}/{f}' for name in ('circle', 'square', 'triangle')
                  for f in pngs(os.path.join(root, split, name)))


def check_layout(root, task, num_train, num_val):
    """Exactly the generated files, and annotations that name exactly them."""
    for split, n in (('train', num_train), ('val', num_val)):
        files = listing(root, task, split)
        assert len(files) == n, (split, files)
        if task == 'det':
            with open(os.path.join(root, 'annotations', f'instances_{split}.json')) as f:
                coco = json.load(f)
            assert sorted(image['file_name'] for image in coco['images']) == files
            assert {a['image_id'] for a in coco['annotations']} <= {
                image['id'] for image in coco['images']}
        if task == 'seg':
            assert pngs(os.path.join(root, 'ann_dir', split)) == files


@pytest.mark.parametrize('task', ['det', 'seg', 'cls'])
def test_regenerating_smaller_leaves_no_stale_files(tmp_path, task):
    root = str(tmp_path / 'toy')
    assert make_toy_shapes(root, num_train=12, num_val=5, size=32, task=task)
    check_layout(root, task, 12, 5)
    assert make_toy_shapes(root, num_train=6, num_val=2, size=32, task=task)
    check_layout(root, task, 6, 2)
    assert not make_toy_shapes(root, num_train=6, num_val=2, size=32, task=task)  # up to date


def test_switching_task_removes_the_other_tasks_files_and_nothing_else(tmp_path):
    root = str(tmp_path / 'toy')
    make_toy_shapes(root, num_train=4, num_val=2, size=32, task='det')
    for path in ('notes.txt', 'train/notes.txt'):  # not the generator's: kept
        with open(os.path.join(root, path), 'w') as f:
            f.write('mine')
    make_toy_shapes(root, num_train=3, num_val=2, size=32, task='seg')
    check_layout(root, 'seg', 3, 2)
    assert sorted(os.listdir(root)) == ['VERSION', 'ann_dir', 'img_dir', 'notes.txt', 'train']
    assert os.listdir(os.path.join(root, 'train')) == ['notes.txt']
    make_toy_shapes(root, num_train=3, num_val=2, size=32, task='cls')
    check_layout(root, 'cls', 3, 2)
    assert sorted(os.listdir(root)) == ['VERSION', 'notes.txt', 'train', 'val']
    assert sorted(os.listdir(os.path.join(root, 'train'))) == [
        'circle', 'notes.txt', 'square', 'triangle']
