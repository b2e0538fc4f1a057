"""RNGStateHook across a validation, in MMEngine's iteration-based and epoch-based loops (mmdet's
1x configs use EpochBasedTrainLoop), in-process on a tiny model whose training and validation
both draw from torch's, numpy's and Python's global generators (dropout, label noise, a noisy
"augmentation" in the dataset, a stochastic predict; every new data loader iterator also takes a
seed from torch's generator).

- Isolation: a run that validates gives the same losses and final weights as one whose
  validation never runs (``val_begin`` past the end: the same loops are built, only the
  validations are skipped). Without the hook they differ: the control shows the set-up has teeth.
- Resume: a run resumed from a checkpoint written just before a validation (the checkpoint
  hook runs before the loop validates) continues as the uninterrupted run, which did validate
  there; only the hook's restore after validation makes the two streams meet.
"""

import random
import uuid

import numpy as np
import pytest
import torch
from mmengine.evaluator import BaseMetric
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import Dataset

from se_backbones.engine.hooks import RNGStateHook

NEVER = 10**6


@pytest.fixture(autouse=True)
def no_pause_at_the_loaders_end(monkeypatch):
    """MMEngine's iteration-based loop sleeps 2 s each time it restarts its data loader
    (against a worker deadlock; these loaders have no workers): 14 of these tests' 16 s."""
    import types

    import mmengine.runner.loops as loops

    monkeypatch.setattr(loops, 'time', types.SimpleNamespace(sleep=lambda seconds: None))


class NoisyData(Dataset):
    def __init__(self, n):
        self.x = torch.randn(n, 4, generator=torch.Generator().manual_seed(0))

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):  # an augmentation drawing from torch's global generator
        return dict(inputs=self.x[i] + 0.1 * torch.randn(4))


class NoisyModel(BaseModel):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 1)
        self.dropout = nn.Dropout(0.5)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        x = torch.stack(inputs)
        if mode == 'loss':
            target = torch.randn(len(x)) + float(np.random.rand()) + random.random()
            return dict(loss=((self.linear(self.dropout(x)).squeeze(1) - target) ** 2).mean())
        # a stochastic validation: it draws from all three generators
        noise = torch.rand(1) + float(np.random.rand()) + random.random()
        return list(self.linear(x).squeeze(1) + 0 * noise)


class Count(BaseMetric):
    def process(self, data_batch, data_samples):
        self.results.append(len(data_samples))

    def compute_metrics(self, results):
        return dict(count=sum(results))


class Record(Hook):
    def __init__(self):
        self.losses, self.validations = [], 0

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.losses.append(float(outputs['loss'].detach()))

    def after_val(self, runner):
        self.validations += 1


def train(work_dir, by_epoch, length, val_begin=1, hook=True, resume_from=None):
    """Train the tiny model (``length`` epochs of 4 iterations, or ``length`` iterations),
    validating every epoch / 2 iterations from ``val_begin``, a checkpoint at each validation
    point; returns the recorder and the final weights."""
    record = Record()
    torch.manual_seed(0)  # the model is built before the Runner seeds
    if by_epoch:
        train_cfg = dict(by_epoch=True, max_epochs=length, val_interval=1, val_begin=val_begin)
    else:
        train_cfg = dict(by_epoch=False, max_iters=length, val_interval=2, val_begin=val_begin)
    loader = dict(batch_size=2, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=True))
    runner = Runner(
        model=NoisyModel(),
        work_dir=str(work_dir),
        experiment_name=uuid.uuid4().hex,
        train_dataloader=dict(loader, dataset=NoisyData(8)),
        val_dataloader=dict(
            loader, dataset=NoisyData(4), sampler=dict(type='DefaultSampler', shuffle=False)
        ),
        val_evaluator=[Count()],
        train_cfg=train_cfg,
        val_cfg=dict(),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.05)),
        default_hooks=dict(
            checkpoint=dict(
                type='CheckpointHook', interval=1 if by_epoch else 2, by_epoch=by_epoch
            ),
            logger=dict(type='LoggerHook', interval=100),
        ),
        custom_hooks=[RNGStateHook()] * hook + [record],
        randomness=dict(seed=0),
        resume=resume_from is not None,
        load_from=resume_from,
    )
    runner.train()
    return record, {k: v.clone() for k, v in runner.model.state_dict().items()}


def same(a, b):
    return a[0].losses == b[0].losses and all(torch.equal(a[1][k], b[1][k]) for k in a[1])


@pytest.mark.parametrize('by_epoch', [True, False], ids=['epoch-based', 'iter-based'])
def test_validation_leaves_the_training_random_stream_untouched(by_epoch, tmp_path):
    length = 3 if by_epoch else 8
    validated = train(tmp_path / 'val', by_epoch, length)
    skipped = train(tmp_path / 'skip', by_epoch, length, val_begin=NEVER)
    assert validated[0].validations == (3 if by_epoch else 4) and skipped[0].validations == 0
    assert len(validated[0].losses) == (12 if by_epoch else 8)
    assert len(set(validated[0].losses)) == len(validated[0].losses)  # it does train
    assert same(validated, skipped)
    # the control: without the hook the validations shift the training stream
    unhooked = [
        train(tmp_path / f'{name}-nohook', by_epoch, length, val_begin=begin, hook=False)
        for name, begin in (('val', 1), ('skip', NEVER))
    ]
    assert not same(*unhooked)


@pytest.mark.parametrize('by_epoch', [True, False], ids=['epoch-based', 'iter-based'])
def test_resume_from_a_checkpoint_taken_just_before_a_validation(by_epoch, tmp_path):
    """The uninterrupted run validates after epoch 2 (iteration 4), right after the checkpoint;
    the run resumed from that checkpoint does not validate there, and ends the same."""
    full = train(tmp_path / 'full', by_epoch, 3 if by_epoch else 8)
    train(tmp_path / 'part', by_epoch, 2 if by_epoch else 4)
    checkpoint = tmp_path / 'part' / ('epoch_2.pth' if by_epoch else 'iter_4.pth')
    resumed = train(tmp_path / 'part', by_epoch, 3 if by_epoch else 8, resume_from=str(checkpoint))
    assert resumed[0].losses == full[0].losses[-len(resumed[0].losses) :]
    assert len(resumed[0].losses) == 4
    assert all(torch.equal(full[1][k], resumed[1][k]) for k in full[1])
