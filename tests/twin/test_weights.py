"""Choosing the twin's weights: ``arch``, ``timm`` and ``checkpoint`` to a Target (our
architecture, timm's architecture, the TimmPretrained name, the local file), with timm's
registry as the reference for its weights; a checkpoint checked against the architecture."""

import os
import re
import warnings

import pytest
import timm
import torch

from se_backbones.twin import TwinError
from se_backbones.twin.weights import choose_target
from tests.twin.toy_steps import save_timm


def tags(arch):
    return [name for name in timm.list_pretrained() if name.split('.', 1)[0] == arch]


def default_tag(arch):
    """timm's default weights of an architecture: what ``pretrained=True`` downloads."""
    return timm.models.get_pretrained_cfg(arch).hf_hub_id.split('/', 1)[1]


@pytest.fixture(scope='module')
def r18_file(tmp_path_factory):
    return save_timm('legacy_seresnet18', tmp_path_factory.mktemp('timm'))


def test_timm_weights_choose_the_architecture():
    assert choose_target(timm='seresnet50.a1_in1k') == (
        ('se_r50', 'seresnet50', 'seresnet50.a1_in1k', None),
        [],
    )
    assert choose_target(arch='se_r50', timm='seresnet50.a1_in1k')[0].arch == 'se_r50'
    target, notes = choose_target(timm='seresnet50')
    assert target == ('se_r50', 'seresnet50', default_tag('seresnet50'), None)
    assert notes == [f"timm=seresnet50: timm's default weights {default_tag('seresnet50')}"]
    assert target.pretrained


def test_an_architecture_alone_is_untrained_and_names_the_weights_it_could_have():
    target, notes = choose_target(arch='se_r50')
    assert target == ('se_r50', 'seresnet50', None, None) and not target.pretrained
    assert notes == [
        'arch=se_r50 alone: the backbone starts UNTRAINED (init_cfg=None); timm weights of this '
        f'architecture: {", ".join(tags("seresnet50"))} (timm=NAME)'
    ]
    assert choose_target(arch='se_r18')[1] == [
        'arch=se_r18 alone: the backbone starts UNTRAINED (init_cfg=None); timm has no '
        'ImageNet weights for seresnet18; with weights at depth 18: legacy_se_r18 '
        '(legacy_seresnet18.in1k)'
    ]
    assert choose_target(arch='se_r200d')[1] == [  # no weights at that depth at all
        'arch=se_r200d alone: the backbone starts UNTRAINED (init_cfg=None); timm has no '
        'ImageNet weights for seresnet200d'
    ]


def test_a_checkpoint_is_the_local_file_of_the_architecture(r18_file, tmp_path, monkeypatch):
    monkeypatch.chdir(os.path.dirname(r18_file))
    name = os.path.basename(r18_file)
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter('always')  # torch 2.1 warns of TypedStorage on reading: hidden
        assert choose_target(arch='legacy_se_r18', checkpoint=name) == (
            ('legacy_se_r18', 'legacy_seresnet18', 'legacy_seresnet18', r18_file),
            [],
        )
    assert [str(w.message) for w in shown] == []
    assert choose_target(timm='legacy_seresnet18.in1k', checkpoint=name) == (
        ('legacy_se_r18', 'legacy_seresnet18', 'legacy_seresnet18.in1k', r18_file),
        [],
    )
    # timm without a tag names the architecture: its untrained name is fine with a file
    assert choose_target(timm='seresnet18', checkpoint=save_timm('seresnet18', tmp_path))[0] == (
        'se_r18',
        'seresnet18',
        'seresnet18',
        str(tmp_path / 'seresnet18.pth'),
    )


@pytest.mark.parametrize(
    'options, message',
    [
        (
            dict(),
            'give timm=NAME (the weights; it implies the architecture) or arch=ARCH (an '
            'untrained backbone, or with checkpoint=PATH a local timm file); see arch_table()',
        ),
        (
            dict(timm='resnet50'),
            'timm=resnet50: not an SE architecture se_backbones reproduces; see arch_table() for '
            'the names',
        ),
        (
            dict(timm='seresnet18.xyz'),
            'timm=seresnet18.xyz: timm has no such pretrained tag; its tags for seresnet18: none',
        ),
        (
            dict(timm='seresnet18'),
            'timm=seresnet18: timm has no ImageNet weights for seresnet18 (its pretrained_cfg is '
            'untrained); with weights at depth 18: legacy_se_r18 (legacy_seresnet18.in1k); '
            'arch=se_r18 starts untrained, checkpoint=PATH loads a local file',
        ),
        (
            dict(timm='seresnet50.a1_in1k', arch='se_r5O'),
            "unknown architecture 'se_r5O'",
        ),
        (
            dict(timm='seresnet50.a1_in1k', checkpoint='missing.pth'),
            "checkpoint='missing.pth' does not exist",
        ),
    ],
)
def test_options_that_choose_no_backbone_are_refused(options, message):
    with pytest.raises(TwinError) as error:
        choose_target(**options)
    assert str(error.value).startswith(message), str(error.value)
    assert message.startswith('unknown') or str(error.value) == message


def test_a_tag_timm_does_not_have_is_refused_with_its_tags():
    with pytest.raises(TwinError) as error:
        choose_target(timm='seresnet50.in22k')
    assert str(error.value) == (
        'timm=seresnet50.in22k: timm has no such pretrained tag; its tags for seresnet50: '
        + ', '.join(tags('seresnet50'))
    )


def test_a_file_that_is_no_state_dict_is_refused_naming_it(tmp_path):
    path = tmp_path / 'notes.pth'
    path.write_text('not a checkpoint')
    with pytest.raises(TwinError) as error:
        choose_target(arch='se_r50', checkpoint=str(path))
    assert str(error.value).startswith(f'checkpoint={str(path)!r}: ')
    assert len(str(error.value)) <= len(f'checkpoint={str(path)!r}: ') + 300


@pytest.mark.parametrize(
    'content, message',
    [
        ([1, 2], 'checkpoint={path!r}: {path}: not a state dict (a dict of tensors)'),
        (
            {},
            'checkpoint={path!r} is not a seresnet50 state dict, the architecture of se_r50: it '
            "fits none of the SE architectures se_backbones reproduces (0 tensors, first 'none')",
        ),
    ],
)
def test_a_file_read_but_not_a_state_dict_of_the_architecture_is_refused(
    content, message, tmp_path
):
    path = str(tmp_path / 'my weights.pth')  # a space in the path, kept in the message
    torch.save(content, path)
    with pytest.raises(TwinError) as error:
        choose_target(arch='se_r50', checkpoint=path)
    assert str(error.value) == message.format(path=path)


def test_a_file_of_another_architecture_is_refused_naming_what_it_is(r18_file):
    with pytest.raises(TwinError) as error:
        choose_target(arch='se_r18', checkpoint=r18_file)
    assert str(error.value) == (
        f'checkpoint={r18_file!r} is not a seresnet18 state dict, the architecture of se_r18: it '
        'seems to be legacy_seresnet18 (timm=legacy_seresnet18 or arch=legacy_se_r18)'
    )


def test_several_architectures_with_weights_are_listed_each_with_its_tag():
    (note,) = choose_target(arch='se_r101')[1]
    head, listed = note.split('; with weights at depth 101: ')
    assert head.endswith('timm has no ImageNet weights for seresnet101')
    entries = listed.split(', ')
    assert len(entries) >= 2 and 'legacy_se_r101 (legacy_seresnet101.in1k)' in entries
    assert all(re.fullmatch(r'\w+ \([\w.]+\)', e) for e in entries), entries
