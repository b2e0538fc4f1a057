"""The written twin: portable bases (a toolkit config by its name, other absolute paths as they
are), so that a moved twin still loads; the overrides the Changes write."""

import shutil

from mmengine.config import Config

from se_backbones.twin import Change, make_se_config
from se_backbones.twin.base import base_path
from se_backbones.twin.render import overrides

RETINA = 'mmdet::retinanet/retinanet_r18_fpn_1x_coco.py'


def test_a_toolkit_config_given_by_path_is_written_by_name_and_the_twin_moves(tmp_path):
    path = base_path(RETINA)  # .../site-packages/mmdet/.mim/configs/...: absolute
    out = tmp_path / 'a' / 'twin.py'
    make_se_config(path, str(out), arch='se_r18')
    assert f"_base_ = '{RETINA}'" in out.read_text()
    moved = tmp_path / 'elsewhere' / 'deeper' / 'twin.py'
    moved.parent.mkdir(parents=True)
    shutil.move(out, moved)
    assert Config.fromfile(str(moved)).model.backbone.type == 'se_backbones.SEResNet'


def test_an_absolute_base_stays_absolute_and_the_twin_moves(tmp_path):
    base = tmp_path / 'mine.py'
    base.write_text(f"_base_ = '{RETINA}'\n")
    out = tmp_path / 'twins' / 'twin.py'
    make_se_config(str(base), str(out), arch='se_r18')
    assert f"_base_ = '{base}'" in out.read_text()
    moved = tmp_path / 'moved.py'
    shutil.move(out, moved)
    assert Config.fromfile(str(moved)).model.backbone.depth == 18


def test_overrides_write_each_change_at_its_path():
    top, model = overrides(
        [
            Change('model.backbone._delete_', None, True, 'replaced', 'set'),
            Change('model.backbone.depth', 50, 18, 'arch'),
            Change('model.backbone.groups', 32, 1, 'arch', write=False),
            Change('model.neck[0].in_channels', [2], [1], 'w', write=('model.neck', [dict(a=1)])),
            Change.note('a note'),
            Change('load_from', 'x.pth', None, 'plain'),
        ]
    )
    assert top == {'load_from': None}
    assert model == {'backbone': {'_delete_': True, 'depth': 18}, 'neck': [{'a': 1}]}
