"""TimmPretrained into a backbone whose config adds layers timm's model lacks (DCN offsets,
context blocks, generalized attention): every timm tensor loads, the added ones keep the
backbone's own init, and the log names them."""

import logging

import pytest
import timm
import torch

from se_backbones import SEResNet, convert_timm_state_dict
from se_backbones.weights.equivalence import randomize_

DCN = dict(
    dcn=dict(type='DCNv2', deform_groups=1, fallback_on_stride=False),
    stage_with_dcn=(False, True, True, True),
)
GCB = dict(
    plugins=[
        dict(
            cfg=dict(type='ContextBlock', ratio=1.0 / 16),
            stages=(False, True, True, True),
            position='after_conv3',
        )
    ]
)
ATTENTION = dict(
    plugins=[
        dict(
            cfg=dict(
                type='GeneralizedAttention',
                spatial_range=-1,
                num_heads=8,
                attention_type='0010',
                kv_stride=2,
            ),
            stages=(False, False, True, True),
            position='after_conv2',
        )
    ]
)


@pytest.fixture(scope='module')
def timm_file(tmp_path_factory):
    path = str(tmp_path_factory.mktemp('timm') / 'seresnet50.pth')
    torch.manual_seed(0)
    torch.save(randomize_(timm.create_model('seresnet50')).state_dict(), path)
    return path


@pytest.mark.parametrize(
    'extra, added',
    [
        (DCN, 'layer*.*.conv2.conv_offset.weight (13), layer*.*.conv2.conv_offset.bias (13)'),
        (GCB, 'layer*.*.context_block.conv_mask.weight (13)'),
        (ATTENTION, 'layer*.*.gen_attention_block.'),
    ],
)
def test_timm_weights_load_and_added_tensors_keep_their_init(extra, added, timm_file, mmlogs):
    torch.manual_seed(1)
    reference = SEResNet(depth=50, **extra)
    reference.init_weights()
    torch.manual_seed(1)
    model = SEResNet(
        depth=50,
        **extra,
        init_cfg=dict(
            type='se_backbones.TimmPretrained', model_name='seresnet50', checkpoint=timm_file
        ),
    )
    model.init_weights()
    expected = convert_timm_state_dict('seresnet50', torch.load(timm_file))
    ours, theirs = model.state_dict(), reference.state_dict()
    extra_keys = [k for k in ours if k not in expected]
    assert extra_keys
    for key, value in ours.items():
        want = expected[key] if key in expected else theirs[key]  # added: the backbone's init
        assert torch.equal(value, want), key
    if 'dcn' in extra:  # mmcv's DCN offsets start at zero, as in mmdet
        assert all(ours[k].abs().sum() == 0 for k in extra_keys)
    logged = [message for level, message in mmlogs if level == logging.INFO]
    assert len(logged) == 1 and len(mmlogs) == 1, mmlogs
    assert (
        f"{len(extra_keys)} tensors that the config adds to seresnet50 keep the backbone's init: "
        in logged[0]
        and added in logged[0]
    )


def test_a_timm_tensor_without_a_place_is_still_refused(timm_file):
    """Strict about timm's keys: a backbone without SE in layer1 leaves timm tensors over."""
    model = SEResNet(
        depth=50,
        stage_with_se=(False, True, True, True),
        **DCN,
        init_cfg=dict(
            type='se_backbones.TimmPretrained', model_name='seresnet50', checkpoint=timm_file
        ),
    )
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(
        ValueError,
        match=r'does not fit the backbone: 12 unexpected keys: '
        r'layer1\.0\.se_layer',
    ):
        model.init_weights()
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
