"""RNGStateHook: a resumed iteration-based run continues exactly as the uninterrupted one."""

import random

import numpy as np
import torch
from mmengine.hooks import Hook

from ..registry import HOOKS


def get_rng_states():
    return dict(torch=torch.get_rng_state(), numpy=np.random.get_state(), python=random.getstate())


def set_rng_states(states):
    torch.set_rng_state(states['torch'])
    np.random.set_state(states['numpy'])
    random.setstate(states['python'])


class _RestoreAfterSkip:
    """Wraps the train loop's data iterator: after the ``skip`` batches MMEngine replays on
    resume, it puts back the random states saved with the checkpoint."""

    def __init__(self, iterator, skip, states):
        self.iterator, self.skip, self.states = iterator, skip, states

    def __iter__(self):
        return self

    def __next__(self):
        if self.skip == 0 and self.states is not None:
            set_rng_states(self.states)
            self.states = None
        self.skip -= 1
        return next(self.iterator)


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Save the global random states (torch CPU, numpy, Python) in every checkpoint and restore
    them on resume, so that with a fixed seed a resumed run draws the same random numbers (RPN
    and RoI sampling, data augmentation, dropout) as the run that was interrupted; validation
    runs with the training random states saved and put back, so it draws nothing from them.

    MMEngine's ``IterBasedTrainLoop`` resumes by replaying the data loader up to the checkpoint's
    iteration; the states are restored right after that replay, where the interrupted run was.
    An epoch-based loop resumes at an epoch start, where the states are restored.

    Use: ``custom_hooks = [dict(type='se_backbones.RNGStateHook')]`` (our base config and
    ``tools/train.py`` add it).
    """

    priority = 'VERY_LOW'

    def __init__(self):
        self._resumed = None
        self._val_states = None

    def before_save_checkpoint(self, runner, checkpoint):
        states = get_rng_states()
        name, keys, pos, has_gauss, gauss = states['numpy']
        checkpoint['rng_states'] = dict(  # types that torch.load(weights_only=True) reads
            torch=states['torch'],
            python=states['python'],
            numpy=(name, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, gauss),
        )

    def after_load_checkpoint(self, runner, checkpoint):
        saved = checkpoint.get('rng_states')
        if saved is None:
            return
        name, keys, pos, has_gauss, gauss = saved['numpy']
        self._resumed = dict(
            torch=saved['torch'],
            python=saved['python'],
            numpy=(name, keys.numpy().astype(np.uint32), pos, has_gauss, gauss),
        )

    def before_train(self, runner):
        if self._resumed is None:
            return
        loop = runner.train_loop
        if hasattr(loop, 'dataloader_iterator'):  # iteration-based: after the replay
            loop.dataloader_iterator = _RestoreAfterSkip(
                loop.dataloader_iterator, loop.iter, self._resumed
            )
        else:  # epoch-based: it resumes at the start of an epoch
            set_rng_states(self._resumed)
        self._resumed = None

    def before_val(self, runner):
        self._val_states = get_rng_states()

    def after_val(self, runner):
        if self._val_states is not None:
            set_rng_states(self._val_states)
            self._val_states = None
