"""What a twin is made of: a Change (printed with its reason, shown only when its value
changes, written where it says) and the Twin's report."""

from mmengine.config import ConfigDict

from se_backbones.twin import Change, Twin
from se_backbones.twin.changes import plain

BN = dict(type='BN', requires_grad=False)


def test_a_change_prints_init_configs_short():
    pretrained = dict(type='Pretrained', checkpoint='torchvision://resnet50')
    timm = dict(type='T', model_name='m', checkpoint='/w.pth', missing_ok=True)  # 4 items: short
    assert str(Change('k', pretrained, timm, 'why')) == (
        'k: Pretrained(torchvision://resnet50) -> T(m, /w.pth, missing_ok=True) (why)'
    )
    five = dict(timm, x=1)
    assert str(Change('k', None, five, 'why')) == f'k: None -> {five!r} (why)'
    assert str(Change('k', (1, 2), dict(a=1), 'why')) == "k: (1, 2) -> {'a': 1} (why)"
    assert repr(Change('k', 1, 2, 'why', 'set')) == "Change('k', 1, 2, 'why', 'set')"


def test_a_change_is_shown_when_its_value_differs_and_written_where_it_says():
    assert Change('k', 1, 2, 'r').shown
    assert not Change('k', (1, [2, 3]), [1, (2, 3)], 'r').shown  # a tuple is its list
    assert not Change('k', 1, 2, 'r', 'set').shown and not Change('k', 1, 2, 'r', 'kept').shown
    assert Change('k', [1], [1, 2], 'r').shown
    assert Change('k', 1, 2, 'r', 'kept').written() == ('k', 2)
    assert Change('k', 1, 2, 'r', write=('p', [3])).written() == ('p', [3])
    assert Change('k', 1, 2, 'r', write=False).written() is None
    assert Change('k', 1, 2, 'r', 'note').written() is None
    note = Change.note('text')
    assert (note.key, note.reason, note.kind, note.written(), note.shown) == (
        None,
        'text',
        'note',
        None,
        False,
    )


def test_plain_turns_config_dicts_into_dicts_and_keeps_tuples():
    value = plain(ConfigDict(a=[ConfigDict(b=1), (ConfigDict(c=2),)], d='x'))
    assert value == {'a': [{'b': 1}, ({'c': 2},)], 'd': 'x'}
    assert type(value) is dict and type(value['a'][0]) is dict
    assert type(value['a'][1]) is tuple and type(value['a'][1][0]) is dict


def test_the_report_lists_changes_kept_settings_notes_and_the_file():
    items = [
        Change('model.backbone.depth', 50, 18, 'arch'),
        Change('model.backbone.style', 'caffe', 'pytorch', 'arch', 'set'),
        Change('model.backbone.norm_cfg', BN, BN, 'kept from the base', 'kept'),
        Change('model.backbone.frozen_stages', 1, 1, 'kept from the base', 'kept'),
        Change('model.neck.in_channels', [256], [256], 'widths'),
        Change.note('careful'),
    ]
    twin = Twin('b.py', 'se_r18', None, items, 'text', path='out/t.py')
    assert twin.report() == [
        'SE twin of b.py: se_r18 (untrained)',
        '  model.backbone.depth: 50 -> 18 (arch)',
        '  kept from the base backbone: norm_cfg=BN(requires_grad=False), frozen_stages=1',
        '  note: careful',
        'wrote out/t.py',
    ]
    assert twin.changes == items[:1] and twin.notes == ['careful']
    assert twin.kept == {'norm_cfg': BN, 'frozen_stages': 1}
    bare = Twin('b.py', 'se_r50', 'seresnet50.a1_in1k', items[:1], 'text')
    assert bare.report() == [
        'SE twin of b.py: se_r50 with timm weights seresnet50.a1_in1k',
        '  model.backbone.depth: 50 -> 18 (arch)',
    ]
    assert (bare.path, bare.text, bare.base, bare.arch) == (None, 'text', 'b.py', 'se_r50')
