"""The comparison helpers of weights/equivalence.py (the full comparison of every architecture
is test_timm_equivalence.py): random weights that make every layer count, the stage features
of a timm model, the relative error."""

import pytest
import timm
import torch

from se_backbones import backbone_cfg_from_timm
from se_backbones.registry import MODELS
from se_backbones.weights.equivalence import (
    equivalence_error,
    max_rel_diff,
    randomize_,
    timm_stage_features,
)


def tiny():
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 64, 3),
        torch.nn.BatchNorm2d(64),
        torch.nn.Conv2d(64, 64, 3, bias=False),
        torch.nn.BatchNorm2d(64),
    )


def test_randomize_fills_every_float_tensor_reproducibly():
    model = tiny()
    assert randomize_(model) is model
    floats = {
        name: t
        for name, t in list(model.named_parameters()) + list(model.named_buffers())
        if t.is_floating_point()
    }
    assert len(floats) == 11
    for name, tensor in floats.items():
        if name.endswith('running_var'):  # BN variances in [0.5, 1.5)
            assert 0.5 <= float(tensor.min()) and float(tensor.max()) < 1.5, name
            assert float(tensor.max()) - float(tensor.min()) > 0.5, name
        else:  # the rest normal, std 0.2
            assert float(tensor.std()) == pytest.approx(0.2, rel=0.35), name
            assert float(tensor.min()) < 0 < float(tensor.max()), name
    # the integer buffers (BN's batch count) stay as they were
    assert [int(b) for n, b in model.named_buffers() if not b.is_floating_point()] == [0, 0]
    # the same seed, the same values whatever the model held and the global generator's state;
    # seed 0 by default; another seed, other values
    torch.manual_seed(123)
    again = randomize_(tiny(), seed=0)
    other = randomize_(tiny(), seed=1)
    for (name, a), b, c in zip(
        model.state_dict().items(),
        again.state_dict().values(),
        other.state_dict().values(),
        strict=True,
    ):
        assert torch.equal(a, b), name
        assert a.is_floating_point() is False or not torch.equal(a, c), name


def test_stage_features_are_timm_s_layer_outputs():
    model = randomize_(timm.create_model('seresnet18')).train()
    x = torch.randn(1, 3, 32, 32)
    features = timm_stage_features(model, x)
    assert not model.training  # run in eval mode
    with torch.no_grad():
        y = model.maxpool(model.act1(model.bn1(model.conv1(x))))
        expected = []
        for layer in (model.layer1, model.layer2, model.layer3, model.layer4):
            y = layer(y)
            expected.append(y)
    assert len(features) == 4
    for f, e in zip(features, expected, strict=True):
        assert torch.equal(f, e)
    assert len(timm_stage_features(model, x)) == 4  # the hooks of the first call are gone


def test_max_rel_diff():
    ours = [torch.tensor([1.0, 2.0]), torch.tensor([[3.0, -1.0]])]
    theirs = [torch.tensor([1.0, 4.0]), torch.tensor([[2.0, -8.0]])]
    # pair 1: max |diff| 2 / max |theirs| 4; pair 2: 7 / 8
    assert max_rel_diff(ours, theirs) == 7 / 8
    assert max_rel_diff(ours[:1], theirs[:1]) == 0.5
    assert max_rel_diff(theirs, theirs) == 0
    with pytest.raises(ValueError):  # pairs, not a prefix of the longer list
        max_rel_diff(ours, theirs[:1])


def test_equivalence_error_of_a_supported_architecture_and_its_build_argument():
    built = []

    def build(cfg):
        built.append(cfg)
        return MODELS.build(cfg)

    assert equivalence_error('seresnet18', size=32, build=build) < 1e-5
    assert built == [dict(backbone_cfg_from_timm('seresnet18'), out_indices=(0, 1, 2, 3))]
    assert equivalence_error('seresnet18', size=32) < 1e-5  # our registry by default

    def other_architecture(cfg):  # same shapes, another stem pool: the error shows it
        return MODELS.build(
            dict(cfg, stem_pool_cfg=dict(kernel_size=3, stride=2, padding=0, ceil_mode=True))
        )

    assert equivalence_error('seresnet18', size=32, build=other_architecture) > 1e-2


def test_the_input_is_one_fixed_random_batch_of_two_75_px_images_and_the_load_is_strict():
    """docs/timm.md: random weights "loaded strictly", a 2x3x75x75 input; the same input (and
    so the same error) whatever the global random state."""
    inputs = []

    class Seen(Exception):
        pass

    def recording(cfg):  # records what our backbone is given, then stops the comparison
        model = MODELS.build(cfg)

        def record(module, args):
            inputs.append(args[0].clone())
            raise Seen

        model.register_forward_pre_hook(record)
        return model

    with torch.random.fork_rng():
        for seed in (1, 2):
            torch.manual_seed(seed)
            with pytest.raises(Seen):
                equivalence_error('seresnet18', build=recording)
    assert inputs[0].shape == (2, 3, 75, 75)
    assert torch.equal(inputs[0], inputs[1])

    def with_a_tensor_timm_lacks(cfg):
        model = MODELS.build(cfg)
        model.register_buffer('extra', torch.zeros(1))
        return model

    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "extra"'):
        equivalence_error('seresnet18', size=32, build=with_a_tensor_timm_lacks)
